"""``boletos stack --replicas``: several processes per service on one NATS and one store per
service, sharing a file's work and handling each debt once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from boletos_testing.datagen import write_csv
from tests.integration.stack.evidence import (
    assert_one_boleto_and_one_email_per_debt,
    debt_ids,
    settled_progress,
    start_replicated,
    stopped_reports,
)
from tests.integration.test_stack import StackFactory, cli

ROWS = 1200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_replicas_share_a_file_and_handle_each_debt_once(
    stack_factory: StackFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide enough that no address in the endpoints table is folded.
    stack, base = start_replicated(stack_factory, monkeypatch, COLUMNS="250")
    # NATS, the SMTP catcher, ingest, two processes each of boleto and mailer, the gateway
    assert len(stack.children()) == 8, stack.logs()
    rows = {line.split()[0]: line for line in stack.output().splitlines() if "127.0.0.1:" in line}
    for name, port in [("ingest", base), ("boleto-1", base + 1), ("mailer-1", base + 2),
                       ("boleto-2", base + 11), ("mailer-2", base + 12)]:  # fmt: skip
        assert f" 127.0.0.1:{port} " in rows[name], stack.output()
        assert f"http://127.0.0.1:{port + 5}/metrics" in rows[name], stack.output()

    csv_path = write_csv(tmp_path / "debts.csv", ROWS, seed=4242)
    uploaded = cli(stack, "upload", "--json", str(csv_path))
    assert uploaded.returncode == 0, uploaded.stderr
    summary = json.loads(uploaded.stdout)
    assert summary["accepted"] == ROWS
    progress = settled_progress(stack, summary["upload_id"], within=180)
    assert progress["boletos_issued"] == progress["emails_sent"] == ROWS, progress
    assert_one_boleto_and_one_email_per_debt(tmp_path / "stack", debt_ids(csv_path))

    assert stack.stop() == 0, stack.logs()
    # Each replica's own account at shutdown: both took part, and together they did each
    # debt exactly once.
    reports = stopped_reports(stack)
    issued = [reports[name]["issued"] for name in ("boleto-1", "boleto-2")]
    sent = [reports[name]["sent"] for name in ("mailer-1", "mailer-2")]
    assert sum(issued) == ROWS and min(issued) > 0, issued
    assert sum(sent) == ROWS and min(sent) > 0, sent
    # Replicas are told apart in the log by their prefix.
    log = stack.stderr.read_text()
    assert "boleto-2 | " in log and "mailer-2 | " in log
