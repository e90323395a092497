"""NATS as a guarded boundary: a real nats-server with the users and permissions of
nats_permissions (as the local stack and the deployments run it) refuses a connection without
credentials, refuses each service's user the subjects of the others and, but for ingest, any
write to the key bucket; and the services' real work still goes through it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from boletos.platform import nats_streams
from boletos.platform.access.directory import BUCKET, KeyDirectory
from boletos.platform.access.keys import new_key
from boletos.platform.access.roles import Role
from boletos.platform.nats_auth import NatsAuth
from boletos.platform.nats_permissions import GRANTS
from boletos.provision import Secrets, ensure_secrets
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.processes import NatsServer
from tests.support.waiting import wait_for


@dataclasses.dataclass
class Guarded:
    url: str
    secrets: Secrets


@dataclasses.dataclass
class Session:
    """One user's connection, with the errors the server sent it."""

    nc: Client
    js: JetStreamContext
    errors: list[str]

    async def refused(self, what: str, subject: str) -> None:
        """Waits for the server to refuse `what` ("publish", "subscription") on `subject`;
        nats-py may send a flush's PING ahead of what is still queued, so one flush is not
        enough to know it has been answered."""
        expected = f'permissions violation for {what} to "{subject}"'.lower()
        await self.nc.flush()
        await wait_for(lambda: expected in " ".join(self.errors), within=30, every=0.05)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Guarded]:
    secrets = ensure_secrets(tmp_path / "secrets", services=())
    server = NatsServer(tmp_path / "nats", authorization=secrets.nats_authorization()).start()
    try:
        yield Guarded(server.url, secrets)
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def session(guarded: Guarded, user: str) -> AsyncIterator[Session]:
    """Connected as the service `user`, the way the services connect."""
    errors: list[str] = []

    async def collect(exc: Exception) -> None:
        errors.append(str(exc).lower())

    auth = NatsAuth.read(guarded.secrets.nats_env(user))
    nc = await nats.connect(
        guarded.url, allow_reconnect=False, error_cb=collect, **auth.connect_options()
    )
    try:
        yield Session(nc, nc.jetstream(), errors)
    finally:
        await nc.close()


async def declared(guarded: Guarded) -> None:
    """Each service declares its own stream at start, and ingest the key bucket."""
    for grant in GRANTS:
        async with session(guarded, grant.user) as s:
            await nats_streams.ensure_streams(s.js, names=grant.declares)
            await KeyDirectory.open(s.js, declare=grant.writes_keys)


async def messages_on(guarded: Guarded, stream: str, subject: str) -> int:
    async with session(guarded, "ingest") as s:
        info = await s.js.stream_info(stream, subjects_filter=subject)
        return (info.state.subjects or {}).get(subject, 0)


async def test_a_connection_without_credentials_or_with_a_wrong_password_is_refused(guarded):
    with pytest.raises(nats.errors.Error, match="(?i)authorization violation"):
        await nats.connect(guarded.url, allow_reconnect=False, error_cb=_quiet)
    with pytest.raises(nats.errors.Error, match="(?i)authorization violation"):
        await nats.connect(
            guarded.url, allow_reconnect=False, error_cb=_quiet, user="ingest", password="guess"
        )


async def _quiet(_exc: Exception) -> None:
    """The refusal is what the test expects; nats-py would log it too."""


@pytest.mark.parametrize(
    ("user", "stream", "subject"),
    [
        ("mailer", "BOLETO", "boleto.boletos.paid"),
        ("boleto", "INGEST", "ingest.debts.imported"),
        ("mailer", "INGEST", "ingest.debts.imported"),
        ("boleto", "MAILER", "mailer.emails.sent"),
        ("ingest", "BOLETO", "boleto.boletos.paid"),
    ],
)
async def test_a_service_may_not_publish_another_services_events(guarded, user, stream, subject):
    await declared(guarded)
    async with session(guarded, user) as s:
        await s.nc.publish(subject, b"forged")
        await s.refused("publish", subject)
    assert await messages_on(guarded, stream, subject) == 0
    owner = stream.lower()
    async with session(guarded, owner) as s:
        await s.js.publish(subject, b"genuine")
    assert await messages_on(guarded, stream, subject) == 1


@pytest.mark.parametrize("user", ["boleto", "mailer"])
async def test_only_ingest_may_write_the_key_bucket(guarded, user):
    await declared(guarded)
    now = dt.datetime.now(dt.UTC)
    forged, record = new_key("forged", Role.ADMIN, now)
    genuine, _ = new_key("genuine", Role.ADMIN, now)
    async with session(guarded, user) as s:
        subject = f"$KV.{BUCKET}.{record.key_id}"
        await s.nc.publish(subject, record.to_json())
        await s.refused("publish", subject)
    async with session(guarded, "ingest") as s:
        assert await (await KeyDirectory.open(s.js)).ensure(genuine, "genuine", Role.ADMIN)
    async with session(guarded, user) as s:
        # It still reads the bucket, which is how it knows the keys callers present.
        keys = {r.name for r in (await KeyDirectory.open(s.js, declare=False)).records()}
    assert keys == {"genuine"}


@pytest.mark.parametrize("user", ["boleto", "mailer"])
async def test_only_its_owner_may_make_or_change_a_stream(guarded, user):
    await declared(guarded)
    async with session(guarded, user) as s:
        for stream in ("INGEST", "KV_BOLETOS_KEYS"):
            for verb in ("CREATE", "UPDATE", "DELETE", "PURGE"):
                subject = f"$JS.API.STREAM.{verb}.{stream}"
                await s.nc.publish(subject, b"{}")
                await s.refused("publish", subject)
    async with session(guarded, "ingest") as s:
        info = await s.js.stream_info("INGEST")
    assert info.config.max_bytes == nats_streams.stream_config(nats_streams.STREAMS[0]).max_bytes


async def test_a_service_may_not_take_or_settle_another_services_messages(guarded):
    """The mailer and ingest both read the BOLETO stream; neither may fetch from, acknowledge
    on or delete the other's consumer, which would lose the other's events."""
    await declared(guarded)
    async with session(guarded, "mailer") as s:
        await s.js.pull_subscribe(
            "boleto.boletos.issued", durable="mailer-service", stream="BOLETO"
        )
    async with session(guarded, "ingest") as s:
        for subject in (
            "$JS.API.CONSUMER.MSG.NEXT.BOLETO.mailer-service",
            "$JS.ACK.BOLETO.mailer-service.1.1.1.1.1",
            "$JS.API.CONSUMER.DELETE.BOLETO.mailer-service",
            "$JS.API.CONSUMER.DURABLE.CREATE.BOLETO.forged",
        ):
            await s.nc.publish(subject, b"")
            await s.refused("publish", subject)
    async with session(guarded, "mailer") as s:
        assert (await s.js.consumer_info("BOLETO", "mailer-service")).name == "mailer-service"


async def test_a_reader_waits_for_the_bucket_its_writer_makes(guarded):
    async with session(guarded, "boleto") as reader, session(guarded, "ingest") as writer:
        opening = asyncio.create_task(KeyDirectory.open(reader.js, declare=False))
        await asyncio.sleep(0.2)
        assert not opening.done()
        await KeyDirectory.open(writer.js)
        directory = await asyncio.wait_for(opening, 30)
    assert directory.records() == []


async def test_a_service_may_not_read_what_it_does_not_consume(guarded):
    await declared(guarded)
    async with session(guarded, "mailer") as s:
        # The debts, with names and e-mail addresses, are the boleto service's to read.
        await s.nc.subscribe("ingest.>")
        await s.refused("subscription", "ingest.>")
        consumer = "$JS.API.CONSUMER.CREATE.INGEST"
        await s.nc.publish(consumer, b"{}")
        await s.refused("publish", consumer)
    async with session(guarded, "boleto") as s:
        # Another service's inbox is where its fetched messages arrive.
        await s.nc.subscribe("_INBOX_mailer.>")
        await s.refused("subscription", "_INBOX_mailer.>")
        await s.nc.subscribe("_INBOX.>")
        await s.refused("subscription", "_INBOX.>")


def _refusals() -> float:
    return sum(
        REGISTRY.get_sample_value("boletos_nats_refused_total", {"reason": reason}) or 0.0
        for reason in ("authorization", "permission")
    )


async def test_the_pipeline_runs_with_each_service_as_its_own_user(guarded, tmp_path):
    rows = valid_rows(12, seed=19)
    sink = Sink()
    refused_before = _refusals()
    as_user = guarded.secrets.nats_env
    with smtp_sink(sink) as smtp:
        async with (
            # Ingest first: it alone imports the key files' keys; the others wait for them.
            running_ingest(
                f"sqlite:///{tmp_path / 'ingest.db'}", guarded.url, **as_user("ingest")
            ) as ingest,
            running_boleto(
                f"sqlite:///{tmp_path / 'boleto.db'}", guarded.url, **as_user("boleto")
            ) as boleto,
            running_mailer(
                f"sqlite:///{tmp_path / 'mailer.db'}",
                guarded.url,
                boleto.address,
                smtp.port,
                **as_user("mailer"),
            ),
        ):
            summary = await upload(ingest.stub, csv_bytes(rows))
            progress = await settled(ingest.stub, summary.upload_id, within=120)
    assert (progress.boletos_issued, progress.emails_sent, progress.emails_failed) == (12, 12, 0)
    assert {m["X-Boleto-Debt-Id"] for m in sink.messages} == {r.debt_id for r in rows}
    assert _refusals() == refused_before
