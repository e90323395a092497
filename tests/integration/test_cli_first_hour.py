"""The CLI at the edges a new user meets first: a version, a pipe closed early, an upload
followed again after Ctrl-C, and errors that say what the server meant."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import IngestEndpoint
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.processes import python_env

CLI = [sys.executable, "-m", "boletos_cli"]


def cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *argv], capture_output=True, text=True, timeout=timeout, env=python_env()
    )


def upload(ingest: IngestEndpoint, path: Path) -> dict[str, object]:
    done = cli("--ingest", ingest.address, "upload", "--json", str(path))
    assert done.returncode in (0, 1), done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_version_names_the_package() -> None:
    done = cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("boletos 0.")


def test_a_reader_that_stops_early_ends_the_command_quietly(
    ingest: IngestEndpoint, tmp_path: Path
) -> None:
    # Far more report than a pipe holds, so the writer meets the closed pipe mid-stream.
    path = tmp_path / "debts.csv"
    path.write_bytes(csv_bytes(valid_rows(4000, seed=3)))
    upload_id = upload(ingest, path)["upload_id"]
    shell = (
        f"{' '.join(CLI)} --ingest {ingest.address} report {upload_id} | head -n 1; "
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    done = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, timeout=60, env=python_env()
    )
    assert done.stdout == (
        "line,debtId,outcome,boletoStatus,nossoNumero,emailStatus,error,paidAmount,paidOn\n"
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert "status=141" in done.stderr


def test_watch_follows_an_upload_to_its_end(ingest: IngestEndpoint, tmp_path: Path) -> None:
    # Nothing accepted: the upload is settled as soon as it is read.
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([r.changed(email="nobody") for r in valid_rows(3)]))
    upload_id = str(upload(ingest, path)["upload_id"])
    done = cli("--ingest", ingest.address, "watch", upload_id, "--json")
    assert done.returncode == 0, done.stderr
    progress = json.loads(done.stdout)
    assert progress["settled"] is True and progress["accepted"] == 0


def test_ctrl_c_on_a_followed_upload_says_how_to_follow_it_again(
    ingest: IngestEndpoint, tmp_path: Path
) -> None:
    # No boleto service runs here: these debts never settle, so watch waits until told.
    path = tmp_path / "debts.csv"
    path.write_bytes(csv_bytes(valid_rows(3, seed=4)))
    upload_id = str(upload(ingest, path)["upload_id"])
    proc = subprocess.Popen(
        [*CLI, "--ingest", ingest.address, "watch", upload_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A terminal as far as rich knows, so the bars are drawn as they move.
        env=python_env(
            COLUMNS="80", TTY_COMPATIBLE="1", TTY_INTERACTIVE="1", PYTHONFAULTHANDLER="1"
        ),
    )
    try:
        assert proc.stderr is not None
        # The first snapshot has arrived once the bar shows the accepted count.
        seen = ""
        while "0/3" not in seen:
            chunk = proc.stderr.read(1)
            assert chunk, f"watch ended early: {seen}"
            seen += chunk
        proc.send_signal(signal.SIGINT)
        try:
            _, rest = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # Where it hangs, every thread's stack (faulthandler answers SIGABRT).
            proc.send_signal(signal.SIGABRT)
            _, stacks = proc.communicate(timeout=30)
            raise AssertionError(f"watch did not stop on Ctrl-C:\n{stacks[-6000:]}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert f"boletos watch {upload_id}" in seen + rest
    assert "Traceback" not in rest


@pytest.mark.parametrize("command", ["status", "watch", "report"])
def test_an_unknown_upload_is_named_with_the_servers_reason(
    ingest: IngestEndpoint, command: str
) -> None:
    unknown = str(uuid.uuid4())
    done = cli("--ingest", ingest.address, command, unknown)
    assert done.returncode == 2
    assert f"NOT_FOUND: no upload {unknown} [UPLOAD_NOT_FOUND]" in done.stderr
    assert "Traceback" not in done.stderr
