"""``boletos stack --traces``: the three service processes export to the stack's receiver,
and an upload made with the CLI is one trace in DATA_DIR/traces.jsonl, rooted at the
ingest service's Upload span, with each debt's boleto and e-mail in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.integration.test_stack import READY_LINE, StackFactory, cli, stack_factory
from tests.support.csvdata import csv_bytes, valid_rows

__all__ = ["stack_factory"]

UPLOAD = "/boletos.v1.IngestService/Upload"
PER_DEBT = (("boleto.issue", "boleto_service"), ("mailer.send", "mailer_service"))


def _spans(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_upload_through_the_stack_is_one_trace_in_its_file(
    stack_factory: StackFactory, tmp_path: Path
) -> None:
    stack = stack_factory("--traces")
    stack.wait_for_output(READY_LINE)
    rows = valid_rows(3, seed=5)
    data = tmp_path / "three.csv"
    data.write_bytes(csv_bytes(rows))
    waited = cli(stack, "upload", "--wait", "--json", str(data))
    assert waited.returncode == 0, waited.stderr
    upload_id = json.loads(waited.stdout)["upload_id"]
    assert stack.stop() == 0, stack.logs()

    # Every service flushed its spans as it stopped, before the receiver did.
    spans = _spans(stack.data_dir / "traces.jsonl")
    (call,) = [s for s in spans if s["name"] == UPLOAD and s["kind"] == "server"]
    assert call["service"] == "ingest_service" and call["parent_span_id"] == ""
    in_trace = [s for s in spans if s["trace_id"] == call["trace_id"]]
    for row in rows:
        for name, service in PER_DEBT:
            assert [
                s["service"]
                for s in in_trace
                if s["name"] == name
                and s["attributes"].get("debt_id") == row.debt_id
                and s["attributes"].get("upload_id") == upload_id
            ] == [service], f"{name} of {row.debt_id} is not in the upload's trace once"
