"""What a replicated stack leaves behind, read back for the tests: the replicas' own
accounts in their logs, the e-mails in the catcher's Maildir, and the services' stores."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import time
from contextlib import closing
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from tests.integration.test_stack import (
    READY_LINE,
    StackFactory,
    StackProcess,
    cli,
    free_base_port,
)

REPLICAS = {"boleto": 2, "mailer": 2}
REPLICAS_ARG = "boleto=2,mailer=2"
# Small ingest blocks and one event per fetch turn a file of a few hundred rows into enough
# events for both boleto replicas to get some; fewer SMTP connections mean smaller claims,
# so both mailers get some too. Every service reads only its own settings.
SHARING_ENV = {
    "INGEST_BLOCK_BYTES": "8192",
    "BOLETO_FETCH_BATCH": "1",
    "SMTP_CONNECTIONS": "2",
}
SENT = 3  # mailer_service.store.repository.SENT


def start_replicated(
    stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch, **env: str
) -> tuple[StackProcess, int]:
    """A stack with two boleto and two mailer replicas, tuned to share a small file, once it
    is ready; and its base port."""
    for key, value in {**SHARING_ENV, **env}.items():
        monkeypatch.setenv(key, value)
    base = free_base_port(REPLICAS)
    stack = stack_factory("--replicas", REPLICAS_ARG, base_port=base)
    stack.wait_for_output(READY_LINE)
    return stack, base


# "boleto-2 | 12:00:01 INFO boleto   service.stopped issued=412 failed=0"
_STOPPED = re.compile(r"^\s*(?P<name>[\w-]+) \| .*\bservice\.stopped\b(?P<fields>.*)$")
# Headers are at the top of each file; the PDF after them is not needed.
_HEAD_BYTES = 16 * 1024


def debt_ids(csv_path: Path) -> set[str]:
    with csv_path.open(newline="") as f:
        return {row["debtId"] for row in csv.DictReader(f)}


def settled_progress(stack: StackProcess, upload_id: str, within: float) -> dict[str, object]:
    deadline = time.monotonic() + within
    while True:
        status = cli(stack, "status", upload_id, "--json")
        assert status.returncode == 0, status.stderr
        progress = json.loads(status.stdout)["progress"]
        if progress["settled"]:
            return progress
        assert time.monotonic() < deadline, (progress, stack.logs())
        time.sleep(0.5)


def stopped_reports(stack: StackProcess) -> dict[str, dict[str, int]]:
    """Each process's service.stopped counters, by its name in the stack's log prefix."""
    reports: dict[str, dict[str, int]] = {}
    for line in stack.stderr.read_text(errors="replace").splitlines():
        match = _STOPPED.match(line)
        if match is None:
            continue
        fields = dict(part.split("=", 1) for part in match["fields"].split() if "=" in part)
        reports[match["name"]] = {k: int(v) for k, v in fields.items() if v.isdigit()}
    return reports


def mail_headers(maildir: Path) -> list[Message]:
    parser = BytesHeaderParser()
    messages = []
    for path in sorted(maildir.iterdir()):
        with path.open("rb") as f:
            messages.append(parser.parsebytes(f.read(_HEAD_BYTES)))
    return messages


def assert_one_boleto_and_one_email_per_debt(data_dir: Path, expected: set[str]) -> None:
    """Exactly one boleto, one delivery and one e-mail per debt: none lost, none twice."""
    messages = mail_headers(data_dir / "mail" / "new")
    mailed = [m["X-Boleto-Debt-Id"] for m in messages]
    assert len(mailed) == len(expected), f"{len(mailed)} e-mails for {len(expected)} debts"
    assert set(mailed) == expected
    message_ids = [m["Message-ID"] for m in messages]
    assert None not in message_ids and len(set(message_ids)) == len(message_ids)

    with closing(sqlite3.connect(data_dir / "boleto.db")) as db:
        query = "SELECT count(*), count(DISTINCT debt_id) FROM boletos"
        boletos, debts = db.execute(query).fetchone()
        (failures,) = db.execute("SELECT count(*) FROM boleto_failures").fetchone()
    assert (boletos, debts, failures) == (len(expected), len(expected), 0)

    with closing(sqlite3.connect(data_dir / "mailer.db")) as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM deliveries GROUP BY status"))
    assert statuses == {SENT: len(expected)}
