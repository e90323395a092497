"""SIGTERM to one boleto and one mailer replica in the middle of a file: each finishes or
hands back what it holds and exits 0 in time, and the rest of the stack completes the file
with one boleto and one e-mail per debt."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_cli.stack.supervisor import STOP_GRACE_SECONDS
from boletos_testing.datagen import write_csv
from tests.integration.stack.evidence import (
    assert_one_boleto_and_one_email_per_debt,
    debt_ids,
    settled_progress,
    start_replicated,
    stopped_reports,
)
from tests.integration.test_stack import StackFactory, StackProcess, _alive

ROWS = 2000
# Sent slowly, so debts keep arriving for several seconds, and the last chunk held until the
# replicas are stopped: they stop with work in hand and more to come, however slow the
# machine, never after the file is done.
CHUNK_BYTES = 4096
CHUNK_PAUSE_SECONDS = 0.12


def paced_upload(
    stack: StackProcess, path: Path, hold_last: threading.Event
) -> ingest_pb2.UploadSummary:
    last = (path.stat().st_size - 1) // CHUNK_BYTES

    def requests() -> Iterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(header=ingest_pb2.UploadHeader(file_name=path.name))
        sent = 0
        with path.open("rb") as source:
            for n, chunk in enumerate(iter(lambda: source.read(CHUNK_BYTES), b"")):
                if n == last:
                    hold_last.wait()
                yield ingest_pb2.UploadRequest(chunk=chunk)
                sent += len(chunk)
                time.sleep(CHUNK_PAUSE_SECONDS)
        yield ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=sent))

    with stack.sync_channel() as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        return stub.Upload(requests(), timeout=300).summary


def pid_listening_on(stack: StackProcess, address: str) -> int:
    wanted = f"GRPC_LISTEN_ADDR={address}".encode()
    for pid in stack.children():
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in environ:
            return pid
    raise AssertionError(f"no process of the stack listens on {address}\n{stack.logs()}")


def wait_until(
    condition: Callable[[], bool], within: float, what: str, stack: StackProcess
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {within}s\n{stack.logs()}"
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_mid_file_drains_replicas_and_loses_or_repeats_nothing(
    stack_factory: StackFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PDF fetch that lands on the boleto replica as it goes away is retried soon.
    # The client holds its last chunk until the replicas are stopped: longer than that takes.
    stack, base = start_replicated(
        stack_factory, monkeypatch, MAIL_RETRY_BASE_SECONDS="1", INGEST_IDLE_TIMEOUT_SECONDS="300"
    )
    boleto_2 = pid_listening_on(stack, f"127.0.0.1:{base + 11}")
    mailer_2 = pid_listening_on(stack, f"127.0.0.1:{base + 12}")
    data_dir = tmp_path / "stack"
    maildir = data_dir / "mail" / "new"
    csv_path = write_csv(tmp_path / "debts.csv", ROWS, seed=5151)

    with ThreadPoolExecutor(1) as pool:
        stopped = threading.Event()
        upload: Future[ingest_pb2.UploadSummary] = pool.submit(
            paced_upload, stack, csv_path, stopped
        )

        # Both replicas are at work: boleto-2 has issued a batch, e-mails are going out.
        def working() -> bool:
            lines = stack.stderr.read_text(errors="replace").splitlines()
            issuing = any(
                line.lstrip().startswith("boleto-2 | ") and "boleto.batch_issued" in line
                for line in lines
            )
            return issuing and maildir.is_dir() and any(maildir.iterdir())

        wait_until(working, 60, "both replicas working", stack)
        assert not upload.done(), "the file was through before the replicas could be stopped"
        sent_at = time.monotonic()
        try:
            os.kill(boleto_2, signal.SIGTERM)
            os.kill(mailer_2, signal.SIGTERM)
            wait_until(
                lambda: not _alive(boleto_2) and not _alive(mailer_2),
                STOP_GRACE_SECONDS,
                "the SIGTERMed replicas gone",
                stack,
            )
            drained_in = time.monotonic() - sent_at
        finally:
            stopped.set()
        summary = upload.result(timeout=300)

    # The stack reaped both with exit code 0 and kept serving on the other replicas. It says
    # so once it has reaped them, a moment after they are gone.
    reaped = [
        f"{name} | exited with code 0; 1 other replica(s) still serving"
        for name in ("boleto-2", "mailer-2")
    ]
    wait_until(
        lambda: all(line in stack.stderr.read_text() for line in reaped),
        STOP_GRACE_SECONDS,
        "both replicas reaped with exit code 0",
        stack,
    )
    assert stack.proc.poll() is None, stack.logs()
    assert drained_in < STOP_GRACE_SECONDS

    assert summary.accepted == ROWS
    progress = settled_progress(stack, summary.upload_id, within=180)
    assert progress["boletos_issued"] == progress["emails_sent"] == ROWS, progress
    assert_one_boleto_and_one_email_per_debt(data_dir, debt_ids(csv_path))

    assert stack.stop() == 0, stack.logs()
    reports = stopped_reports(stack)
    # The stopped replicas said so before exiting, with what they had done; nothing they
    # counted was counted again by the others.
    assert reports["boleto-2"]["issued"] > 0 and reports["mailer-2"]["sent"] > 0, reports
    assert reports["boleto-1"]["issued"] + reports["boleto-2"]["issued"] == ROWS, reports
    assert reports["mailer-1"]["sent"] + reports["mailer-2"]["sent"] == ROWS, reports
