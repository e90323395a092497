"""Transactional outbox shared by the services: events are written in the same database
transaction as the state they announce, and a relay publishes them to JetStream afterwards.

A crash after the commit and before the publish loses nothing: the rows stay pending and the
next relay publishes them. A crash after the publish and before the mark publishes again, and
JetStream drops the repeat by its Nats-Msg-Id.

An event written inside a traced operation keeps that trace's context in its row, and goes
out with it as the message's traceparent and tracestate headers: its consumers continue the
trace however late the relay publishes it, and a redelivery carries the same headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.engine import Engine

from boletos.platform import trace_context
from boletos.platform.database import writing
from boletos.platform.logs import get_logger
from boletos.platform.metrics import OUTBOX_PUBLISH_FAILURES

log = get_logger("outbox")

# (subject, Nats-Msg-Id, payload)
Event = tuple[str, str, bytes]

BATCH = 64
# Pending events a relay that merges lists reads at once, and the most bytes one merged
# message carries (NATS refuses payloads over 1 MiB by default).
LIST_BATCH = 2000
MERGED_MAX_BYTES = 512 * 1024
IDLE_POLL_SECONDS = 1.0
RETRY_SECONDS = 2.0
PURGE_EVERY_SECONDS = 600.0


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("msg_id", sa.String(160), nullable=False, unique=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        # The W3C trace context of the operation that wrote the event, as JSON headers.
        sa.Column("trace_context", sa.Text, nullable=True),
        sa.Index(
            "ix_outbox_pending",
            "id",
            sqlite_where=sa.text("published = 0"),
            postgresql_where=sa.text("NOT published"),
        ),
        # The purge of published events past their retention.
        sa.Index(
            "ix_outbox_published_created",
            "created_at",
            sqlite_where=sa.text("published = 1"),
            postgresql_where=sa.text("published"),
        ),
    )
    return table


def insert_events(cursor: Any, dialect: str, events: Sequence[Event]) -> None:
    """Adds events through a DBAPI cursor inside the caller's transaction, in bulk, with
    the trace context current in the calling thread."""
    if not events:
        return
    created = dt.datetime.now(dt.UTC)
    traced = trace_context.current_text()
    if dialect == "sqlite":
        # The text form SQLAlchemy itself stores for DateTime on SQLite.
        stamp = created.replace(tzinfo=None).isoformat(sep=" ")
        cursor.executemany(
            "INSERT INTO outbox (subject, msg_id, payload, published, created_at, "
            "trace_context) VALUES (?, ?, ?, 0, ?, ?)",
            [(s, m, p, stamp, traced) for s, m, p in events],
        )
    else:
        # %b sends the payload as binary instead of escaping it to text.
        cursor.executemany(
            "INSERT INTO outbox (subject, msg_id, payload, published, created_at, "
            "trace_context) VALUES (%s, %s, %b, false, %s, %s)",
            [(s, m, p, created, traced) for s, m, p in events],
        )


class Pending(NamedTuple):
    """An event waiting for the relay."""

    id: int
    subject: str
    msg_id: str
    payload: bytes
    trace_context: str | None = None

    def headers(self) -> dict[str, str]:
        return {**trace_context.headers_of(self.trace_context), "Nats-Msg-Id": self.msg_id}


class OutboxStore:
    def __init__(self, engine: Engine, table: sa.Table) -> None:
        self._engine = engine
        self._table = table

    def pending(self, limit: int) -> list[Pending]:
        c = self._table.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.id, c.subject, c.msg_id, c.payload, c.trace_context)
                .where(c.published == sa.false())
                .order_by(c.id)
                .limit(limit)
            ).all()
        return [Pending(r.id, r.subject, r.msg_id, bytes(r.payload), r.trace_context) for r in rows]

    def mark_published(self, ids: Sequence[int]) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                self._table.update().where(self._table.c.id.in_(ids)).values(published=True)
            )

    def purge_published(self, older_than: dt.datetime) -> int:
        c = self._table.c
        with writing(self._engine) as conn:
            result = conn.execute(
                self._table.delete().where(c.published == sa.true(), c.created_at < older_than)
            )
        return result.rowcount

    def unpublished_count(self) -> int:
        c = self._table.c
        query = sa.select(sa.func.count()).select_from(self._table).where(c.published == sa.false())
        with self._engine.connect() as conn:
            return conn.execute(query).scalar_one()


class OutboxRelay:
    """Publishes pending events. With `lists_every`, for a service whose every event is a
    list (a message of repeated fields only, so that concatenated encodings are the merged
    list), it publishes at most that often, each subject's pending events as one message:
    a consumer then pays its per-message costs once for many small events. A merged message
    published again after a crash may be merged differently and not be recognised as a
    repeat, so only events whose consumers apply each item idempotently may be lists."""

    def __init__(
        self,
        store: OutboxStore,
        js: JetStreamContext,
        retention: dt.timedelta | None = None,
        lists_every: float | None = None,
    ) -> None:
        self._store = store
        self._js = js
        self._retention = retention
        self._lists_every = lists_every
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._last_purge = 0.0
        self.published = 0
        self.duplicates = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """End run() at its next pause. Not by cancellation alone: nats-py can swallow a
        cancellation that arrives while it flushes, and a loop would then go on."""
        self._stopped.set()
        self._wake.set()

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.publish_pending()
                await self._purge()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the relay must outlive any one failure
                OUTBOX_PUBLISH_FAILURES.inc()
                log.warning(
                    "outbox.publish_failed", error=str(exc) or repr(exc), retry_in=RETRY_SECONDS
                )
                await self._pause(RETRY_SECONDS)
                continue
            if self._lists_every:
                # Wake-ups meanwhile only say there is more to gather.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), self._lists_every)
            await self._pause(IDLE_POLL_SECONDS)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Publishes until nothing is pending; returns how many events went out."""
        total = 0
        while True:
            self._wake.clear()
            batch = await asyncio.to_thread(
                self._store.pending, LIST_BATCH if self._lists_every else BATCH
            )
            if not batch:
                return total
            runs = merged(batch) if self._lists_every else [[event] for event in batch]
            messages = [as_message(run) for run in runs]
            acks = await asyncio.gather(
                *(
                    self._js.publish(event.subject, event.payload, headers=event.headers())
                    for event in messages
                )
            )
            await asyncio.to_thread(self._store.mark_published, [event.id for event in batch])
            dupes = sum(len(run) for run, ack in zip(runs, acks, strict=True) if ack.duplicate)
            self.published += len(batch) - dupes
            self.duplicates += dupes
            total += len(batch)

    async def _purge(self) -> None:
        now = asyncio.get_running_loop().time()
        if self._retention is None or now - self._last_purge < PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        cutoff = dt.datetime.now(dt.UTC) - self._retention
        purged = await asyncio.to_thread(self._store.purge_published, cutoff)
        if purged:
            log.info("outbox.purged", events=purged)


def merged(events: Sequence[Pending]) -> list[list[Pending]]:
    """Each subject's events in as few runs as MERGED_MAX_BYTES allows, subjects in the order
    of their first events; each run goes out as one message (`as_message`)."""
    by_subject: dict[str, list[list[Pending]]] = {}
    # The bytes of each subject's last run so far.
    filled: dict[str, int] = {}
    for event in events:
        runs = by_subject.setdefault(event.subject, [[]])
        size = len(event.payload)
        if runs[-1] and filled[event.subject] + size > MERGED_MAX_BYTES:
            runs.append([])
            filled[event.subject] = 0
        runs[-1].append(event)
        filled[event.subject] = filled.get(event.subject, 0) + size
    return [run for runs in by_subject.values() for run in runs]


def as_message(run: Sequence[Pending]) -> Pending:
    """A run of one event is that event; a longer one, its payloads concatenated, with the
    first event's trace and an id naming its first and last events and their number."""
    first, last = run[0], run[-1]
    if len(run) == 1:
        return first
    return Pending(
        first.id,
        first.subject,
        f"{first.msg_id}..{last.msg_id}#{len(run)}",
        b"".join(e.payload for e in run),
        first.trace_context,
    )
