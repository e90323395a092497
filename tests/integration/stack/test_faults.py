"""The fault matrix: a file goes through the real stack while one part of it is killed,
frozen or cut, and each run ends with exact counts, without a person stepping in.

Every scenario uploads the same kind of file slowly, and holds its last chunk until the fault
has landed, so the fault always meets a file still arriving however slow the machine is; it
ends when every upload has settled. Then, read from the services' own stores and the
catcher's Maildir: one boleto per debt; one delivery per debt, sent (or uncertain, where the
scenario makes a reply go missing); one e-mail per debt, except that a killed mailer may have
sent again what was on the wire, at most SMTP_CONNECTIONS messages, each copy with the
original's Message-ID.

Each scenario prints one `fault-matrix` line with what it measured.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_testing.datagen import write_csv
from mailer_service.domain.delivery import DeliveryStatus
from tests.integration.stack.evidence import debt_ids, mail_headers
from tests.integration.stack.test_draining import pid_listening_on, wait_until
from tests.integration.test_stack import READY_LINE, StackFactory, StackProcess, _cmdline
from tests.integration.test_stack import free_base_port as free_stack_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROWS = 300
CHUNK_BYTES = 1024
# The file takes about five seconds to arrive, its last chunk then held until the fault.
CHUNK_PAUSE_SECONDS = 0.12
CONNECTIONS = 3
SETTLE_WITHIN = 120.0
FROZEN_SECONDS = 6.0
# Short enough that the frozen parts outlast them; long enough not to fire on a busy machine.
SMTP_TIMEOUT = "2"
ENV = {
    "SMTP_CONNECTIONS": str(CONNECTIONS),
    "INGEST_BLOCK_BYTES": "8192",
    "MAIL_RETRY_BASE_SECONDS": "0.5",
    "INGEST_RECEIVER_STALE_SECONDS": "3",
    "MAIL_LEASE_SECONDS": "5",
    # The client holds its last chunk until the fault: longer than the first e-mail can take.
    "INGEST_IDLE_TIMEOUT_SECONDS": "300",
}


@dataclass
class Run:
    """A stack under test and what the scenario needs to reach its parts."""

    stack: StackProcess
    base_port: int
    data_dir: Path
    urls: dict[str, str]
    uploads: list[str] = field(default_factory=list)
    # Set once the fault has landed: until then the client holds the file's last chunk.
    fault_landed: threading.Event = field(default_factory=threading.Event)

    def pid_of(self, name: str) -> int:
        offsets = {"ingest": 0, "boleto": 1, "mailer": 2, "mailer-2": 12}
        if name in offsets:
            return pid_listening_on(self.stack, f"127.0.0.1:{self.base_port + offsets[name]}")
        marker = {"nats": "nats-server", "smtp": "smtp_catcher"}[name]
        return next(p for p in self.stack.children() if marker in _cmdline(p))

    def wait_restarted(self, name: str) -> None:
        wait_until(
            lambda: f"{name} | stack.restarted" in self.stack.stderr.read_text(errors="replace"),
            30,
            f"{name} restarted",
            self.stack,
        )


def _kill(name: str) -> Callable[[Run], None]:
    def fault(run: Run) -> None:
        os.kill(run.pid_of(name), signal.SIGKILL)
        run.wait_restarted(name)

    return fault


def _freeze(name: str) -> Callable[[Run], None]:
    def fault(run: Run) -> None:
        pid = run.pid_of(name)
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(FROZEN_SECONDS)
        finally:
            os.kill(pid, signal.SIGCONT)

    return fault


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Callable[[Run], None]
    # Messages a scenario may send twice: those on the wire when a mailer died.
    may_repeat: int = 0
    # Deliveries whose reply may go missing, which are then uncertain and not resent.
    may_be_uncertain: bool = False
    replicas: str = ""
    env: dict[str, str] = field(default_factory=dict)
    # Ingest itself is hit: the client sees its upload fail and sends the file again.
    resend: bool = False
    # Cut the client's own stream instead of hurting a process.
    cut_stream: bool = False


SCENARIOS = [
    Scenario("kill -9 boleto", _kill("boleto")),
    Scenario("kill -9 mailer", _kill("mailer"), may_repeat=CONNECTIONS),
    Scenario(
        "kill -9 one mailer of two",
        _kill("mailer-2"),
        may_repeat=CONNECTIONS,
        replicas="mailer=2",
    ),
    Scenario("kill -9 ingest", _kill("ingest"), resend=True),
    Scenario("kill -9 nats-server", _kill("nats")),
    Scenario("SIGSTOP nats-server", _freeze("nats")),
    Scenario(
        "SIGSTOP smtp server",
        _freeze("smtp"),
        may_be_uncertain=True,
        env={"SMTP_TIMEOUT_SECONDS": SMTP_TIMEOUT, "SMTP_DATA_TIMEOUT_SECONDS": SMTP_TIMEOUT},
    ),
    Scenario("stream cut mid-file", lambda run: None, cut_stream=True, resend=True),
]
# The scenarios whose fault lands on a store's transactions run on PostgreSQL as well.
ON_POSTGRES = {"kill -9 mailer", "kill -9 ingest", "kill -9 boleto"}


def _cases() -> Iterator[object]:
    for scenario in SCENARIOS:
        yield pytest.param(scenario, "sqlite", id=f"{scenario.name}-sqlite")
        if scenario.name in ON_POSTGRES:
            yield pytest.param(
                scenario, "postgres", id=f"{scenario.name}-postgres", marks=pytest.mark.postgres
            )


class StreamCut(Exception):
    pass


def _send(
    stack: StackProcess,
    path: Path,
    *,
    paced: bool,
    cut_after: int | None = None,
    hold_last: threading.Event | None = None,
) -> str:
    """Streams the file; returns the upload id. `cut_after` chunks, then the client goes;
    with `hold_last`, the last chunk waits for it."""
    last = (path.stat().st_size - 1) // CHUNK_BYTES

    def requests() -> Iterator[ingest_pb2.UploadRequest]:
        yield ingest_pb2.UploadRequest(header=ingest_pb2.UploadHeader(file_name=path.name))
        sent = 0
        with path.open("rb") as source:
            for n, chunk in enumerate(iter(lambda: source.read(CHUNK_BYTES), b"")):
                if cut_after is not None and n == cut_after:
                    raise StreamCut
                if hold_last is not None and n == last:
                    hold_last.wait()
                yield ingest_pb2.UploadRequest(chunk=chunk)
                sent += len(chunk)
                if paced:
                    time.sleep(CHUNK_PAUSE_SECONDS)
        yield ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=sent))

    with stack.sync_channel() as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        return stub.Upload(requests(), timeout=300).summary.upload_id


def _send_until_done(run: Run, path: Path, scenario: Scenario) -> None:
    """What a client does: send the file; if the call fails, send it again."""
    cut_after = 25 if scenario.cut_stream else None
    deadline = time.monotonic() + 60
    while True:
        try:
            hold = None if scenario.cut_stream else run.fault_landed
            run.uploads.append(
                _send(run.stack, path, paced=True, cut_after=cut_after, hold_last=hold)
            )
            return
        except (grpc.RpcError, StreamCut):
            assert scenario.resend, f"the upload failed\n{run.stack.logs()}"
            assert time.monotonic() < deadline, run.stack.logs()
            cut_after = None
            time.sleep(0.5)


def _scalar(url: str, query: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(query).scalar_one())
    finally:
        engine.dispose()


def _everything_settled(run: Run, debts: int) -> bool:
    ingest = run.urls["ingest"]
    unsettled = _scalar(
        ingest, "SELECT count(*) FROM uploads WHERE completed_at IS NULL OR state = 1"
    )
    accepted = _scalar(ingest, "SELECT count(*) FROM debts")
    return unsettled == 0 and accepted == debts and bool(run.uploads)


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {name: f"sqlite:///{tmp_path / 'stack' / name}.db" for name in SERVICES}
    names = ("postgres_url", "second_postgres_url", "third_postgres_url")
    return {svc: request.getfixturevalue(n) for svc, n in zip(SERVICES, names, strict=True)}


SERVICES = ("ingest", "boleto", "mailer")


@pytest.mark.parametrize(("scenario", "databases"), list(_cases()), indirect=["databases"])
def test_fault_heals_with_exact_counts(
    scenario: Scenario,
    databases: dict[str, str],
    stack_factory: StackFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in {**ENV, **scenario.env}.items():
        monkeypatch.setenv(key, value)
    replicas = dict(part.split("=") for part in scenario.replicas.split(",") if part)
    base = free_stack_port({k: int(v) for k, v in replicas.items()})
    extra = [f"--database={svc}={url}" for svc, url in databases.items() if "sqlite" not in url]
    if scenario.replicas:
        extra += ["--replicas", scenario.replicas]
    stack = stack_factory(*extra, base_port=base)
    stack.wait_for_output(READY_LINE)
    run = Run(stack, base, tmp_path / "stack", databases)
    maildir = run.data_dir / "mail" / "new"
    csv_path = write_csv(
        tmp_path / "debts.csv", ROWS, seed=zlib.crc32(scenario.name.encode()) % 10_000
    )
    expected = debt_ids(csv_path)

    with ThreadPoolExecutor(1) as pool:
        sending: Future[None] = pool.submit(_send_until_done, run, csv_path, scenario)
        if not scenario.cut_stream:
            # Mid-run: e-mails are going out and the file is still arriving.
            wait_until(
                lambda: maildir.is_dir() and any(maildir.iterdir()), 60, "first e-mails", stack
            )
            assert not sending.done(), "the file was through before the fault"
        hit_at = time.monotonic()
        try:
            scenario.fault(run)
        finally:
            run.fault_landed.set()
        sending.result(timeout=300)
    wait_until(lambda: _everything_settled(run, len(expected)), SETTLE_WITHIN, "settled", stack)
    healed_in = time.monotonic() - hit_at

    mailer, boleto = run.urls["mailer"], run.urls["boleto"]
    # One boleto per debt, none failed.
    assert _scalar(boleto, "SELECT count(DISTINCT debt_id) FROM boletos") == len(expected)
    assert _scalar(boleto, "SELECT count(*) FROM boletos") == len(expected)
    assert _scalar(boleto, "SELECT count(*) FROM boleto_failures") == 0
    # One delivery per debt, each sent, or uncertain where replies could go missing.
    sent = _scalar(mailer, f"SELECT count(*) FROM deliveries WHERE status = {DeliveryStatus.SENT}")
    uncertain = _scalar(
        mailer, f"SELECT count(*) FROM deliveries WHERE status = {DeliveryStatus.UNCERTAIN}"
    )
    assert sent + uncertain == _scalar(mailer, "SELECT count(*) FROM deliveries") == len(expected)
    assert uncertain == 0 or scenario.may_be_uncertain

    # Leave the stack a moment to show a late second copy, then read the Maildir.
    time.sleep(1)
    messages = mail_headers(maildir)
    copies = Counter(m["X-Boleto-Debt-Id"] for m in messages)
    repeated = sum(n - 1 for n in copies.values())
    missing = expected - set(copies)
    # Every sent delivery has its e-mail; only an uncertain one may lack it.
    assert len(missing) <= uncertain, f"{len(missing)} debts without an e-mail"
    assert set(copies) <= expected
    assert repeated <= scenario.may_repeat, f"{repeated} e-mails sent twice"
    by_debt: dict[str, set[str]] = {}
    for message in messages:
        by_debt.setdefault(message["X-Boleto-Debt-Id"], set()).add(message["Message-ID"])
    # A second copy carries the first one's Message-ID, so mail clients fold them together.
    assert all(len(ids) == 1 for ids in by_debt.values())
    assert len({i for ids in by_debt.values() for i in ids}) == len(copies)

    # Riding out the fault left no task failing unseen (the mailer without its boleto
    # service once printed one traceback per PDF it was waiting for).
    assert "never retrieved" not in stack.logs()
    print(
        f"\nfault-matrix scenario={scenario.name!r} store={databases['ingest'].split(':')[0]}"
        f" debts={len(expected)} e-mails={len(messages)} repeated={repeated}"
        f" uncertain={uncertain} uploads={len(run.uploads)} healed_in={healed_in:.1f}s"
    )
    assert stack.stop() == 0, stack.logs()
