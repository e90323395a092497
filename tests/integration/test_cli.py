"""The boletos CLI against a live ingest gRPC server."""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import uuid
from importlib import resources
from pathlib import Path

import pytest

from boletos_cli import channels
from boletos_cli.main import main
from tests.integration.conftest import REPO_ROOT, IngestEndpoint
from tests.support.processes import free_port, python_env

SAMPLE = Path(str(resources.files("boletos_cli.samples") / "sample.csv"))
HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId\n"
# Where the sample's three deliberately bad rows sit, and what is wrong with each.
SAMPLE_BAD_ROWS = {11: "EMAIL_INVALID", 23: "DUE_DATE_INVALID", 35: "MALFORMED_ROW"}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def upload_json(capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint, *extra: str) -> dict:
    code, out, err = run_cli(capsys, "--ingest", ingest.address, "upload", "--json", *extra)
    assert code == 0, err
    return json.loads(out)


def test_upload_json_prints_one_object_with_the_counts(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint
) -> None:
    code, out, err = run_cli(capsys, "--ingest", ingest.address, "upload", "--json", str(SAMPLE))

    assert code == 0, err
    assert out.count("\n") == 1, "stdout must hold exactly one JSON line"
    document = json.loads(out)
    for key in (
        "upload_id",
        "rows",
        "accepted",
        "duplicates",
        "conflicts",
        "rejected",
        "state",
        "first_errors",
    ):
        assert key in document
    uuid.UUID(document["upload_id"])
    assert document["state"] == "COMPLETED"
    assert document["file_name"] == "sample.csv"
    assert (document["rows"], document["accepted"], document["rejected"]) == (40, 37, 3)
    assert {e["line"]: e["code"] for e in document["first_errors"]} == SAMPLE_BAD_ROWS
    assert all(set(e) == {"line", "column", "code", "message"} for e in document["first_errors"])
    assert "progress" not in document
    # The progress bar went to stderr, not into the JSON.
    assert "upload" in err


def test_upload_without_json_prints_a_readable_summary(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint
) -> None:
    code, out, err = run_cli(capsys, "--ingest", ingest.address, "upload", str(SAMPLE))

    assert code == 0, err
    assert "accepted" in out and "37" in out
    assert "EMAIL_INVALID" in out and "ROW_ERROR_CODE_" not in out
    assert "DUE_DATE_INVALID" in out


def test_tiny_chunks_split_rows_anywhere_and_count_the_same(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint
) -> None:
    document = upload_json(capsys, ingest, "--chunk-size", "7", str(SAMPLE))

    assert (document["rows"], document["accepted"], document["rejected"]) == (40, 37, 3)


def test_same_request_id_returns_the_earlier_upload(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint
) -> None:
    key = str(uuid.uuid4())
    first = upload_json(capsys, ingest, "--request-id", key, str(SAMPLE))
    again = upload_json(capsys, ingest, "--request-id", key, str(SAMPLE))

    assert again["upload_id"] == first["upload_id"]
    assert again["client_request_id"] == key


def test_upload_wait_merges_the_settled_progress(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint, tmp_path: Path
) -> None:
    # Nothing accepted means nothing for the rest of the pipeline to do: settled at once,
    # with or without the boleto and mailer services running.
    bad = tmp_path / "all-bad.csv"
    bad.write_text(HEADER + f"Ana Lima,1234,not-an-email,100,2025-01-10,{uuid.uuid4()}\n")

    document = upload_json(capsys, ingest, "--wait", str(bad))

    assert document["accepted"] == 0 and document["rejected"] == 1
    progress = document["progress"]
    assert progress["settled"] is True
    assert progress["upload_id"] == document["upload_id"]
    assert {"boletos_issued", "emails_sent", "emails_failed", "boletos_failed"} <= set(progress)


def test_errors_prints_every_row_error_as_csv(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint, tmp_path: Path
) -> None:
    upload_id = upload_json(capsys, ingest, str(SAMPLE))["upload_id"]

    code, out, err = run_cli(capsys, "--ingest", ingest.address, "errors", upload_id)

    assert code == 0, err
    assert out.splitlines()[0] == "line,column,code,message"
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {int(r["line"]): r["code"] for r in rows} == SAMPLE_BAD_ROWS
    assert next(r for r in rows if r["code"] == "EMAIL_INVALID")["column"] == "email"

    target = tmp_path / "errors.csv"
    code, out, err = run_cli(
        capsys, "--ingest", ingest.address, "errors", upload_id, "-o", str(target)
    )
    assert code == 0, err
    assert out == ""
    assert target.read_text().splitlines()[0] == "line,column,code,message"
    assert len(target.read_text().splitlines()) == 1 + len(SAMPLE_BAD_ROWS)
    assert not target.with_name("errors.csv.partial").exists()


def test_status_shows_summary_and_a_progress_snapshot(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint
) -> None:
    upload_id = upload_json(capsys, ingest, str(SAMPLE))["upload_id"]

    code, out, err = run_cli(capsys, "--ingest", ingest.address, "status", upload_id, "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["upload_id"] == upload_id
    assert document["accepted"] == 37
    assert document["progress"]["upload_id"] == upload_id
    assert document["progress"]["accepted"] == 37

    code, out, err = run_cli(capsys, "--ingest", ingest.address, "status", upload_id)
    assert code == 0, err
    assert upload_id in out and "boletos issued" in out


def test_uploads_lists_newest_first(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = upload_json(capsys, ingest, str(SAMPLE))["upload_id"]
    second = upload_json(capsys, ingest, str(SAMPLE))["upload_id"]

    code, out, err = run_cli(capsys, "--ingest", ingest.address, "uploads", "--json")
    assert code == 0, err
    ids = [u["upload_id"] for u in json.loads(out)["uploads"]]
    assert ids[:2] == [second, first]

    # A wide terminal shows the file names; 80 columns keep the id, state and counts.
    monkeypatch.setenv("COLUMNS", "120")
    code, out, err = run_cli(capsys, "--ingest", ingest.address, "uploads")
    assert code == 0, err
    assert "sample.csv" in out and second in out, out
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run_cli(capsys, "--ingest", ingest.address, "uploads")
    assert code == 0, err
    assert second in out and "COMPLETED" in out, out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_a_refused_header_is_one_line_on_stderr_and_exit_2(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint, tmp_path: Path
) -> None:
    bad = tmp_path / "wrong-header.csv"
    bad.write_text("nome,cpf\nAna,1234\n")

    code, out, err = run_cli(capsys, "--ingest", ingest.address, "upload", "--json", str(bad))

    assert code == 2
    assert out == ""
    message = [line for line in err.splitlines() if line.startswith("boletos:")]
    assert len(message) == 1
    assert "INVALID_ARGUMENT" in message[0] and ingest.address in message[0]


def test_an_unknown_upload_is_exit_2(
    capsys: pytest.CaptureFixture[str], ingest: IngestEndpoint
) -> None:
    code, out, err = run_cli(capsys, "--ingest", ingest.address, "status", str(uuid.uuid4()))

    assert code == 2
    assert out == ""
    assert "NOT_FOUND" in err


def test_an_unreachable_service_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    address = f"127.0.0.1:{free_port()}"

    code, out, err = run_cli(capsys, "--ingest", address, "upload", str(SAMPLE))

    assert code == 2
    assert out == ""
    assert err.strip().startswith(f"boletos: ingest service at {address}: UNAVAILABLE")
    assert len([line for line in err.splitlines() if line.startswith("boletos:")]) == 1


def test_a_missing_file_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(capsys, "upload", str(tmp_path / "nope.csv"))

    assert code == 2
    assert "nope.csv" in err


def test_the_module_entry_point_runs_as_a_process(ingest: IngestEndpoint) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "boletos_cli", "uploads", "--json"],
        env=python_env(BOLETOS_INGEST_ADDR=ingest.address),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["uploads"] == []


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        ([], {}, ("localhost:50051", "localhost:50052", "localhost:50053")),
        ([], {"BOLETOS_BOLETO_ADDR": "b:1"}, ("localhost:50051", "b:1", "localhost:50053")),
        (
            ["--ingest", "i:9", "--mailer", "m:9"],
            {"BOLETOS_INGEST_ADDR": "i:1", "BOLETOS_MAILER_ADDR": "m:1"},
            ("i:9", "localhost:50052", "m:9"),
        ),
    ],
)
def test_addresses_come_from_flag_then_env_then_default(
    argv: list[str], env: dict[str, str], expected: tuple[str, str, str]
) -> None:
    parser = argparse.ArgumentParser()
    channels.add_address_flags(parser)

    endpoints = channels.resolve(parser.parse_args(argv), env)

    assert (endpoints.ingest, endpoints.boleto, endpoints.mailer) == expected
