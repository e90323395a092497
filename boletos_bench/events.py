"""Follows the DebtsImported events on the INGEST stream as the service publishes them.

Completeness is judged by the sum of debts over the messages, not by a message count: the
contract caps a batch at 1,000 debts but does not promise full batches.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import nats
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED, ensure_streams
from boletos.v1 import events_pb2

MAX_DEBTS_PER_MESSAGE = 1000


@dataclass
class Received:
    at: float
    debts: int
    data: bytes


@dataclass
class EventTally:
    """What arrived between two marks of the watcher."""

    messages: int = 0
    debts: int = 0
    problems: list[str] = field(default_factory=list)


class EventWatcher:
    """An ordered push consumer over every DebtsImported message, counting debts on arrival."""

    def __init__(self, nats_url: str, stream: str = "INGEST") -> None:
        self.nats_url = nats_url
        self.stream = stream
        self.received: list[Received] = []
        self.total_debts = 0
        self._target: int | None = None
        self._reached = asyncio.Event()
        self._nc: nats.NATS | None = None
        self._decode_errors = 0

    async def start(self) -> None:
        self._nc = await nats.connect(self.nats_url, name="ingest-bench")
        js = self._nc.jetstream()
        # Declaring the streams here too (idempotent, same settings as the services) lets the
        # watcher subscribe before the service has finished starting.
        await ensure_streams(js)
        await js.subscribe(
            SUBJECT_DEBTS_IMPORTED,
            stream=self.stream,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None

    async def _on_message(self, msg: Msg) -> None:
        now = time.perf_counter()
        try:
            debts = len(events_pb2.DebtsImported.FromString(msg.data).debts)
        except DecodeError:
            self._decode_errors += 1
            debts = 0
        self.received.append(Received(now, debts, msg.data))
        self.total_debts += debts
        if self._target is not None and self.total_debts >= self._target:
            self._reached.set()

    def mark(self) -> int:
        """A position to tally from later."""
        return len(self.received)

    async def wait_for_debts(self, since: int, count: int, within: float) -> float | None:
        """perf_counter time at which the debts received after ``since`` first reached ``count``.

        None when they did not within ``within`` seconds.
        """
        base = sum(r.debts for r in self.received[:since])
        self._target = base + count
        self._reached.clear()
        if self.total_debts < self._target:
            try:
                await asyncio.wait_for(self._reached.wait(), within)
            except TimeoutError:
                return None
        running = base
        for r in self.received[since:]:
            running += r.debts
            if running >= self._target:
                return r.at
        return None

    async def stream_messages(self) -> int:
        """DebtsImported messages on the stream; it also carries an UploadCompleted per
        settled upload, which a re-send (nothing accepted) publishes at once."""
        assert self._nc is not None
        info = await self._nc.jetstream().stream_info(
            self.stream, subjects_filter=SUBJECT_DEBTS_IMPORTED
        )
        return (info.state.subjects or {}).get(SUBJECT_DEBTS_IMPORTED, 0)

    def tally(self, since: int, upload_id: str | None = None, verify: bool = False) -> EventTally:
        """Messages and debts received after ``since``; with ``verify``, check their content."""
        tally = EventTally()
        seen: set[str] = set()
        for r in self.received[since:]:
            tally.messages += 1
            tally.debts += r.debts
            if not verify:
                continue
            event = events_pb2.DebtsImported.FromString(r.data)
            if len(event.debts) > MAX_DEBTS_PER_MESSAGE:
                tally.problems.append(
                    f"batch {event.batch_seq} holds {len(event.debts)} debts "
                    f"(> {MAX_DEBTS_PER_MESSAGE})"
                )
            if upload_id is not None and event.upload_id != upload_id:
                tally.problems.append(
                    f"batch {event.batch_seq} names upload {event.upload_id!r}, not {upload_id!r}"
                )
            seen.update(d.debt_id for d in event.debts)
        if verify and len(seen) != tally.debts:
            tally.problems.append(f"{tally.debts - len(seen)} debts published more than once")
        if self._decode_errors:
            tally.problems.append(f"{self._decode_errors} messages did not decode")
        return tally
