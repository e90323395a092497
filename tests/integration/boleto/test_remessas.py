"""Remessas against the real stores: every boleto in exactly one file however many replicas cut
at once, NSAs without gaps, files written whole and written again byte for byte after a
crash, the schedule per day and per upload, and the RPCs on a real gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from google.rpc import error_details_pb2
from prometheus_client import REGISTRY

from boleto_service.api.remessa_rpcs import RemessaRpcs
from boleto_service.config import Settings
from boleto_service.domain.beneficiaries import Beneficiary
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.cnab240 import RECORD_LENGTH, cnab_bank_for
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.domain.remessa_policy import CutPer, RemessaSettings, taker
from boleto_service.service.issuing import IssueBoletos
from boleto_service.service.remessas import (
    RemessaDesk,
    Remessas,
    RemessaScheduler,
    write_atomically,
)
from boleto_service.store.engine import create_engine
from boleto_service.store.remessas import NOT_REGISTRABLE, CutInProgress, Lock, RemessaStore
from boleto_service.store.repository import BoletoStore
from boleto_service.store.tables import boletos, remessas
from boletos.platform.errors import details_of
from boletos.v1 import boleto_pb2, boleto_pb2_grpc, events_pb2
from boletos_testing.cpf import valid_cpf
from tests.support import access
from tests.support.beneficiaries import BB, ITAU
from tests.support.boleto import running_boleto
from tests.support.waiting import wait_for, wait_until


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


ADDRESS = events_pb2.ImportedDebt(
    address="Rua São Bento, 365",
    district="Centro",
    zip_code="01011100",
    city="São Paulo",
    state="SP",
)


def issue(
    store: BoletoStore,
    count: int,
    *,
    beneficiary: BeneficiaryConfig = BB,
    upload_id: str | None = None,
    without_cpf: int = 0,
    without_address: int = 0,
) -> str:
    """`count` boletos through the real issuing path, the first `without_cpf` of them for
    payers with no CPF or CNPJ, the next `without_address` for payers whose file had no
    address; returns the upload id."""
    upload_id = upload_id or str(uuid.uuid4())
    due = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    debts = []
    for n in range(count):
        registrable = n >= without_cpf
        debt = events_pb2.ImportedDebt()
        if not without_cpf <= n < without_cpf + without_address:
            debt.MergeFrom(ADDRESS)
        debt.MergeFrom(
            events_pb2.ImportedDebt(
                debt_id=str(uuid.uuid4()),
                name=f"Pagador Número {n}",
                government_id=valid_cpf(100_000 + n) if registrable else "4821",
                email=f"pagador{n}@example.com",
                amount_cents=1_000 + n,
                due_date=due,
                line=n + 2,
                government_id_kind=(
                    events_pb2.GOVERNMENT_ID_KIND_CPF
                    if registrable
                    else events_pb2.GOVERNMENT_ID_KIND_OTHER
                ),
            )
        )
        debts.append(debt)
    use_case = IssueBoletos(store, {"default": BoletoIssuer(beneficiary, OverduePolicy())})
    issued, refused = use_case(
        events_pb2.DebtsImported(upload_id=upload_id, batch_seq=0, debts=debts)
    )
    assert (issued, refused) == (count, 0)
    return upload_id


def remessas_for(
    store: BoletoStore,
    directory: Path,
    *,
    beneficiary: BeneficiaryConfig = BB,
    now: Clock | None = None,
    engine: sa.Engine | None = None,
    **settings: object,
) -> Remessas:
    return Remessas(
        RemessaStore(engine or store.engine),
        as_beneficiary(beneficiary),
        RemessaSettings(directory=str(directory), **settings),  # type: ignore[arg-type]
        **({"now": now} if now else {}),
    )


def as_beneficiary(config: BeneficiaryConfig, key: str = "default") -> Beneficiary:
    if config.bank_code == "001":
        return Beneficiary(key=key, config=config, agencia_dv="3", variacao_carteira="19")
    return Beneficiary(key=key, config=config)


def file_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    assert data.endswith(b"\r\n")
    lines = data.decode("ascii").split("\r\n")[:-1]
    assert all(len(line) == RECORD_LENGTH for line in lines)
    return lines


def nosso_numeros_in(path: Path) -> list[str]:
    lines = file_lines(path)
    bank = cnab_bank_for(lines[0][:3])
    return [bank.retorno_nosso_numero(line) for line in lines if line[7:8] + line[13:14] == "3P"]


def registrable_nosso_numeros(store: BoletoStore) -> set[str]:
    with store.engine.connect() as conn:
        return set(
            conn.execute(
                sa.select(boletos.c.nosso_numero).where(boletos.c.government_id_kind.in_([2, 3]))
            ).scalars()
        )


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_cut_makes_numbered_files_of_at_most_max_titles_and_leaves_out_who_has_no_cpf(
    store: BoletoStore, tmp_path: Path
) -> None:
    issue(store, 25, without_cpf=3)
    remessas = remessas_for(store, tmp_path / "remessas", max_titles=10)
    left_out = metric("boletos_remessa_unregistrable_total", reason="no_cpf_cnpj")
    files = metric("boletos_remessa_files_total")

    made = remessas.cut_now()

    # The window of the first cut held the 3 without CPF: they go nowhere, the file has 7.
    assert [(r.nsa, r.titles) for r in made] == [(1, 7), (2, 10), (3, 5)]
    assert [r.remessa_id for r in made] == [f"001-1234-123456-00000{n}" for n in (1, 2, 3)]
    assert metric("boletos_remessa_unregistrable_total", reason="no_cpf_cnpj") == left_out + 3
    assert metric("boletos_remessa_files_total") == files + 3
    seen: list[str] = []
    for record in made:
        path = tmp_path / "remessas" / record.file_name
        assert record.file_name == f"001_1234_123456_{record.nsa:06d}.rem"
        data = path.read_bytes()
        assert (record.size_bytes, record.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        lines = file_lines(path)
        assert lines[0][157:163] == f"{record.nsa:06d}"  # header NSA, 158-163
        assert int(lines[-1][23:29]) == len(lines)  # file trailer's record count
        numbers = nosso_numeros_in(path)
        assert len(numbers) == record.titles
        seen.extend(numbers)
    assert sorted(seen) == sorted(registrable_nosso_numeros(store))
    with store.engine.connect() as conn:
        per_remessa: dict[int, int] = dict(
            conn.execute(
                sa.select(boletos.c.remessa_no, sa.func.count()).group_by(boletos.c.remessa_no)
            ).all()
        )
    assert per_remessa == {NOT_REGISTRABLE: 3, 1: 7, 2: 10, 3: 5}
    # Nothing waits any more: a second call makes nothing.
    assert remessas.cut_now() == []


@pytest.mark.parametrize("lock", [Lock.NONE, Lock.WAIT, Lock.TRY])
def test_two_replicas_cutting_at_once_put_every_boleto_in_exactly_one_remessa(
    store: BoletoStore, database_url: str, tmp_path: Path, lock: Lock
) -> None:
    issue(store, 400, without_cpf=10)
    engines = [create_engine(database_url) for _ in range(2)]
    replicas = [
        remessas_for(store, tmp_path / "remessas", engine=engine, max_titles=7)
        for engine in engines
    ]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def cut(remessas: Remessas) -> None:
        start.wait()
        try:
            while True:
                try:
                    if not remessas.cut_all(lock=lock):
                        return
                except CutInProgress:
                    continue  # TRY: the other replica cuts; look again
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failures.append(exc)

    threads = [threading.Thread(target=cut, args=(r,)) for r in replicas]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for engine in engines:
            engine.dispose()
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads)

    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(remessas).order_by(remessas.c.nsa)).all()
        waiting = conn.execute(
            sa.select(sa.func.count()).where(boletos.c.remessa_no.is_(None))
        ).scalar_one()
    assert waiting == 0
    assert [r.nsa for r in rows] == list(range(1, len(rows) + 1))
    assert sorted(r.remessa_no for r in rows) == list(range(1, len(rows) + 1))
    assert sum(r.titles for r in rows) == 390
    in_files: list[str] = []
    for row in rows:
        in_files.extend(nosso_numeros_in(tmp_path / "remessas" / row.file_name))
    assert len(in_files) == len(set(in_files)) == 390
    assert set(in_files) == registrable_nosso_numeros(store)


def test_a_remessa_committed_but_never_written_is_written_from_its_rows_alone(
    store: BoletoStore, tmp_path: Path
) -> None:
    issue(store, 12, beneficiary=ITAU)
    directory = tmp_path / "remessas"
    clock = Clock(dt.datetime(2026, 3, 2, 21, 5, 9, tzinfo=dt.UTC))
    remessas = remessas_for(store, directory, beneficiary=ITAU, now=clock)
    # A crash right after the commit: the row and its boletos, no file.
    cut = remessas.store.cut(
        remessas.account, limit=100, now=clock(), take=taker(remessas.details(clock()))
    )
    assert cut is not None and cut.record is not None
    assert not directory.exists() or not any(directory.iterdir())
    assert [r.remessa_id for r in remessas.store.unwritten()] == [cut.record.remessa_id]

    clock.now += dt.timedelta(hours=5)  # written later, still stamped with the cut's time
    assert remessas.write_unwritten() == 1
    assert remessas.store.unwritten() == []
    record = remessas.find(cut.record.remessa_id)
    assert record is not None and record.written_at is not None
    path = directory / record.file_name
    first = path.read_bytes()
    assert hashlib.sha256(first).hexdigest() == record.sha256
    header = first.decode("ascii")[:240]
    assert header[143:157] == "02032026180509"  # 21:05:09 UTC is 18:05:09 in Brasília
    assert sorted(nosso_numeros_in(path)) == sorted(registrable_nosso_numeros(store))

    path.unlink()
    again, again_path = remessas.ensure_file(record)
    assert again_path.read_bytes() == first
    assert again.sha256 == record.sha256
    assert [p.name for p in directory.iterdir()] == [record.file_name]  # no temporary left


def test_an_atomic_write_replaces_the_file_whole_and_leaves_nothing_else(tmp_path: Path) -> None:
    directory = tmp_path / "deep" / "dir"
    write_atomically(directory, "a.rem", b"first")
    write_atomically(directory, "a.rem", b"second, longer")
    assert (directory / "a.rem").read_bytes() == b"second, longer"
    assert [p.name for p in directory.iterdir()] == ["a.rem"]


async def test_per_day_the_scheduler_cuts_what_was_issued_before_the_cut_time_once(
    store: BoletoStore, tmp_path: Path
) -> None:
    issue(store, 5)
    issued = dt.datetime.now(dt.UTC)
    clock = Clock(issued - dt.timedelta(days=1))
    remessas = remessas_for(store, tmp_path / "remessas", now=clock, cut_at=dt.time(18, 0))
    scheduler = RemessaScheduler(remessas)

    # The last cut time (yesterday's or earlier) came before these boletos were issued.
    assert await scheduler.tick() == []
    clock.now = issued + dt.timedelta(days=1, minutes=1)
    made = await scheduler.tick()
    assert [(r.nsa, r.titles, r.upload_id) for r in made] == [(1, 5, None)]

    # The day's cut is done: what is issued now waits for the next one.
    issue(store, 2)
    assert await scheduler.tick() == []
    clock.now += dt.timedelta(days=1)
    assert [(r.nsa, r.titles) for r in await scheduler.tick()] == [(2, 2)]

    # Another replica (or this one restarted) finds the day done by the rows themselves.
    assert await RemessaScheduler(remessas).tick() == []


async def test_per_upload_the_scheduler_waits_for_an_upload_to_go_quiet(
    store: BoletoStore, tmp_path: Path
) -> None:
    first = issue(store, 3)
    second = issue(store, 4, without_cpf=1)
    issued = dt.datetime.now(dt.UTC)
    clock = Clock(issued + dt.timedelta(seconds=30))
    remessas = remessas_for(
        store, tmp_path / "remessas", now=clock, per=CutPer.UPLOAD, quiet_seconds=60
    )
    scheduler = RemessaScheduler(remessas)
    assert await scheduler.tick() == []
    clock.now = issued + dt.timedelta(seconds=61)
    made = await scheduler.tick()
    assert [(r.upload_id, r.titles) for r in made] == [(first, 3), (second, 3)]
    assert await scheduler.tick() == []


async def test_the_scheduler_loop_cuts_on_its_own_and_stops_when_told(
    store: BoletoStore, tmp_path: Path
) -> None:
    issue(store, 3)
    clock = Clock(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    remessas = remessas_for(store, tmp_path / "remessas", now=clock)
    scheduler = RemessaScheduler(remessas, tick=0.05)
    running = asyncio.create_task(scheduler.run())
    try:
        await wait_for(lambda: remessas.page(None, 10))
        # A crash between commit and file: the next tick writes it.
        issue(store, 2)
        remessas.store.cut(
            remessas.account, limit=9, now=clock(), take=taker(remessas.details(clock()))
        )
        await wait_for(lambda: not remessas.store.unwritten() and len(remessas.page(None, 9)) == 2)
    finally:
        scheduler.stop()
        await asyncio.wait_for(running, 30)
    assert sorted(p.name for p in (tmp_path / "remessas").iterdir()) == [
        "001_1234_123456_000001.rem",
        "001_1234_123456_000002.rem",
    ]


# --- the RPCs, on a real gRPC server ------------------------------------------------------


class _Servicer(RemessaRpcs, boleto_pb2_grpc.BoletoServiceServicer):
    def __init__(self, remessas: Remessas) -> None:
        self._remessas = RemessaDesk([remessas])


@contextlib.asynccontextmanager
async def _serving(remessas: Remessas) -> AsyncIterator[boleto_pb2_grpc.BoletoServiceStub]:
    server = grpc.aio.server()
    boleto_pb2_grpc.add_BoletoServiceServicer_to_server(_Servicer(remessas), server)
    port = server.add_secure_port("127.0.0.1:0", access.server_credentials())
    await server.start()
    channel = access.channel(f"127.0.0.1:{port}")
    try:
        yield boleto_pb2_grpc.BoletoServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(None)


async def _get(stub: boleto_pb2_grpc.BoletoServiceStub, remessa_id: str) -> tuple:
    first, *rest = [
        m async for m in stub.GetRemessa(boleto_pb2.GetRemessaRequest(remessa_id=remessa_id))
    ]
    assert first.HasField("remessa") and not first.chunk
    assert all(not m.HasField("remessa") for m in rest)
    return first.remessa, b"".join(m.chunk for m in rest), [len(m.chunk) for m in rest]


async def test_create_list_and_get_remessas_over_grpc(store: BoletoStore, tmp_path: Path) -> None:
    issue(store, 7)
    directory = tmp_path / "remessas"
    remessas = remessas_for(store, directory, max_titles=3)
    async with _serving(remessas) as stub:
        created = await stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())
        assert [(r.nsa, r.titles) for r in created.remessas] == [(1, 3), (2, 3), (3, 1)]
        assert (await stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())).remessas == []

        first = await stub.ListRemessas(boleto_pb2.ListRemessasRequest(page_size=2))
        assert [r.nsa for r in first.remessas] == [3, 2]
        second = await stub.ListRemessas(
            boleto_pb2.ListRemessasRequest(page_size=2, page_token=first.next_page_token)
        )
        assert [r.nsa for r in second.remessas] == [1] and second.next_page_token == ""
        whole = await stub.ListRemessas(boleto_pb2.ListRemessasRequest())
        assert [r.remessa_id for r in whole.remessas] == [
            r.remessa_id for r in reversed(created.remessas)
        ]

        target = created.remessas[0]
        remessa, data, _ = await _get(stub, target.remessa_id)
        assert remessa == target
        assert data == (directory / target.file_name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == target.sha256
        assert remessa.created_at.ToDatetime(tzinfo=dt.UTC) <= dt.datetime.now(dt.UTC)

        # A file gone from the directory is written again, the same bytes.
        (directory / target.file_name).unlink()
        _, again, _ = await _get(stub, target.remessa_id)
        assert again == data

        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await _get(stub, "001-1234-123456-000099")
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        info = details_of(missing.value)[0]
        assert isinstance(info, error_details_pb2.ErrorInfo)
        assert info.reason == "REMESSA_NOT_FOUND"

        for token in ("abc", "-1", "0"):
            with pytest.raises(grpc.aio.AioRpcError) as bad:
                await stub.ListRemessas(boleto_pb2.ListRemessasRequest(page_token=token))
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_get_remessa_streams_a_large_file_in_64_kib_chunks(
    store: BoletoStore, tmp_path: Path
) -> None:
    issue(store, 400)
    remessas = remessas_for(store, tmp_path / "remessas")
    async with _serving(remessas) as stub:
        (created,) = (await stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())).remessas
        _, data, chunks = await _get(stub, created.remessa_id)
    assert len(data) == created.size_bytes == (400 * 2 + 4) * 242
    assert chunks[:-1] == [64 * 1024] * (len(chunks) - 1)


async def test_without_a_remessa_directory_create_remessas_is_a_failed_precondition(
    store: BoletoStore,
) -> None:
    issue(store, 2)
    remessas = Remessas(RemessaStore(store.engine), as_beneficiary(BB), RemessaSettings())
    async with _serving(remessas) as stub:
        with pytest.raises(grpc.aio.AioRpcError) as off:
            await stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())
        assert off.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        info, precondition = details_of(off.value)
        assert isinstance(info, error_details_pb2.ErrorInfo)
        assert (info.reason, info.domain) == ("REMESSAS_DISABLED", "boletos.v1")
        assert isinstance(precondition, error_details_pb2.PreconditionFailure)
        assert precondition.violations[0].subject == "REMESSA_DIR"
        assert (await stub.ListRemessas(boleto_pb2.ListRemessasRequest())).remessas == []
    with store.engine.connect() as conn:
        waiting = conn.execute(
            sa.select(sa.func.count()).where(boletos.c.remessa_no.is_(None))
        ).scalar_one()
    assert waiting == 2


# --- the real service ----------------------------------------------------------------------


async def test_the_service_writes_what_a_crash_left_cuts_quiet_uploads_and_serves_the_files(
    store: BoletoStore, database_url: str, nats_server, tmp_path: Path
) -> None:
    directory = tmp_path / "remessas"
    env = dict(
        REMESSA_DIR=str(directory),
        REMESSA_PER="upload",
        REMESSA_QUIET_SECONDS="1",
        BENEFICIARY_AGENCIA_DV="3",
        BENEFICIARY_VARIACAO_CARTEIRA="19",
    )
    beneficiary = Settings.from_env({**access.minimal_env(), **env}).beneficiary
    crashed = issue(store, 2, beneficiary=beneficiary)
    # A replica died between committing this remessa and writing its file.
    before = Remessas(RemessaStore(store.engine), as_beneficiary(beneficiary), RemessaSettings())
    now = dt.datetime.now(dt.UTC)
    cut = before.store.cut(
        before.account, limit=10, now=now, take=taker(before.details(now)), upload_id=crashed
    )
    assert cut is not None and cut.record is not None
    later = issue(store, 3, beneficiary=beneficiary)

    async with running_boleto(database_url, nats_server.url, **env) as boleto:

        async def both_written() -> bool:
            page = await boleto.stub.ListRemessas(boleto_pb2.ListRemessasRequest())
            return [(r.upload_id, r.titles, bool(r.sha256)) for r in page.remessas] == [
                (later, 3, True),
                (crashed, 2, True),
            ]

        await wait_until(both_written)
        for remessa in (await boleto.stub.ListRemessas(boleto_pb2.ListRemessasRequest())).remessas:
            got, data, _ = await _get(boleto.stub, remessa.remessa_id)
            assert got == remessa
            assert data == (directory / remessa.file_name).read_bytes()
            assert hashlib.sha256(data).hexdigest() == remessa.sha256
        created = await boleto.stub.CreateRemessas(boleto_pb2.CreateRemessasRequest())
        assert list(created.remessas) == []
