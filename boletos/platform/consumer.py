"""Durable JetStream pull consumers, run the one way every service runs them.

A consumer fetches a batch, decodes each message, hands the readable ones to its handler and
then settles them: ack once the handler's effects are committed, nak with a delay when the
handler asks for a later try (or fails unexpectedly), term for a message no replica could ever
read. While a fetched batch is being handled, the server hears every third of the ack wait
that its messages are still in progress, so the ack wait can be short: a replica that dies
holding messages delays them by seconds, and a slow handler never has them taken away.
While idle it checks now and then that the server still has the durable consumer (a server
restarted without its state would not) and creates it again if not. The loop outlives
broker hiccups and stops between batches, so a stopping service never drops a message it
was working on: what it did not settle is redelivered after the ack wait.

Each fetched batch is handled in one span, linked to the trace of every message in it (a
batch serves many uploads at once); each message of a one-at-a-time consumer is handled in a
span continuing the trace its headers carry, so what it does and publishes joins the trace
of the operation that announced it, on every redelivery too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import Counter

from boletos.platform import trace_context, tracing
from boletos.platform.logs import EventLogger
from boletos.platform.stopping import Stopping

E = TypeVar("E")

FETCH_TIMEOUT_SECONDS = 1.0
# How often an idle consumer asks the server whether its durable still exists.
CHECK_IDLE_SECONDS = 10.0
BROKER_RETRY_SECONDS = 1.0
DEFAULT_RETRY_SECONDS = 5.0
# At most this many refused items' ids per log line.
LOGGED_REFUSALS = 20

EVENTS_REFUSED = Counter(
    "boletos_events_refused_total",
    "Items of consumed events refused as untrusted input (malformed, or not the sender's to "
    "send), never applied, by event; the rest of each event is applied.",
    ["event"],
)


def refuse(log: EventLogger, event: str, reasons: Sequence[tuple[str, str]]) -> None:
    """Counts and logs the items of an `event` refused for (id, reason) each; ids only, never
    personal data. Someone must find who published them."""
    if not reasons:
        return
    EVENTS_REFUSED.labels(event).inc(len(reasons))
    log.error(
        "consumer.items_refused",
        event_type=event,
        count=len(reasons),
        first=[f"{item_id}: {why}" for item_id, why in reasons[:LOGGED_REFUSALS]],
    )


@dataclass(frozen=True)
class ConsumerSpec:
    """Where a durable consumer reads and how the server redelivers to it."""

    stream: str
    subject: str
    durable: str
    # How long a message fetched by a replica that died waits before another replica gets it.
    ack_wait_seconds: float = 10.0
    max_deliver: int = 10
    # Unacknowledged messages across every replica; bounds memory when many are slow.
    max_ack_pending: int = 1000
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL
    fetch_batch: int = 8
    # After a fetch that came back short, how long messages gather before the next one: a
    # consumer whose cost is per batch rather than per item (a transaction, a round trip)
    # then takes many small events at once instead of each as it comes.
    gather_seconds: float = 0.0

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=self.deliver_policy,
            filter_subject=self.subject,
            ack_wait=self.ack_wait_seconds,
            max_deliver=self.max_deliver,
            max_ack_pending=self.max_ack_pending,
        )


@dataclass(frozen=True)
class Delivery(Generic[E]):
    event: E
    # 1 on the first delivery; the server counts redeliveries.
    attempt: int
    msg: Msg
    # The trace context the message's headers carry, None without one.
    context: Context | None = None


class RetryLater(Exception):
    """Raised by a handler: leave these messages for a later delivery, after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry in {delay:g}s")
        self.delay = delay


class GiveUp(Exception):
    """Raised by a handler that logged why: never deliver these messages again."""


Handler = Callable[[Sequence[Delivery[E]]], Awaitable[None]]


class PullConsumer(Generic[E]):
    """Feeds one durable consumer's messages to `handle`, `per_message` one at a time or a
    fetched batch at once; `handle` returning means every message it got is done."""

    def __init__(
        self,
        js: JetStreamContext,
        spec: ConsumerSpec,
        decode: Callable[[bytes], E],
        handle: Handler[E],
        log: EventLogger,
        *,
        per_message: bool = True,
    ) -> None:
        self._js = js
        self.spec = spec
        self._decode = decode
        self._handle = handle
        self._log = log
        self._per_message = per_message
        self._stopping = Stopping()
        self._sub: JetStreamContext.PullSubscription | None = None

    def stop(self) -> None:
        """Settle what is in hand and fetch no more."""
        self._stopping.set()

    async def bind(self) -> None:
        """Creates (or updates) the durable consumer; a consumer only sees messages published
        after it exists unless its deliver policy says otherwise, so bind before producing."""
        self._sub = await self._js.pull_subscribe(
            self.spec.subject,
            durable=self.spec.durable,
            stream=self.spec.stream,
            config=self.spec.config(),
        )

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while not self._stopping.is_set():
            try:
                if self._sub is None:
                    try:
                        await self.bind()
                    except NotFoundError:
                        # Its producer has not made the stream yet; with NATS users only the
                        # producer may.
                        self._log.info(
                            "consumer.stream_awaited",
                            consumer=self.spec.durable,
                            stream=self.spec.stream,
                        )
                        await self._pause(BROKER_RETRY_SECONDS)
                        continue
                    checked = loop.time()
                assert self._sub is not None
                msgs = await self._sub.fetch(self.spec.fetch_batch, timeout=FETCH_TIMEOUT_SECONDS)
            except (NatsTimeoutError, TimeoutError):
                if loop.time() - checked >= CHECK_IDLE_SECONDS:
                    checked = loop.time()
                    await self._check_bound()
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep consuming through broker hiccups
                self._log.warning(
                    "consumer.fetch_failed", consumer=self.spec.durable, error=_describe(exc)
                )
                await self._check_bound()
                await self._pause(BROKER_RETRY_SECONDS)
                continue
            await self._dispatch(msgs)
            if self.spec.gather_seconds and len(msgs) < self.spec.fetch_batch:
                await self._pause(self.spec.gather_seconds)

    async def _check_bound(self) -> None:
        """Binds again if the server lost the durable consumer; a fetch then waits on a
        consumer that no longer exists and would never see a message."""
        try:
            await self._js.consumer_info(self.spec.stream, self.spec.durable)
        except NotFoundError:
            self._log.warning("consumer.rebinding", consumer=self.spec.durable)
            if self._sub is not None:
                try:
                    await self._sub.unsubscribe()
                except Exception:  # noqa: BLE001 - the old subscription is gone anyway
                    pass
            self._sub = None
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the server is unreachable: the next fetch says so
            pass

    async def _pause(self, seconds: float) -> None:
        await self._stopping.sleep(seconds)

    async def _dispatch(self, msgs: list[Msg]) -> None:
        if not msgs:
            return  # a fetch that ended empty: nothing to handle, no span to show for it
        working = asyncio.create_task(self._keep_in_progress(msgs), name="in-progress")
        contexts = [trace_context.extract(msg.headers) for msg in msgs]
        links = [link for context in contexts for link in trace_context.link_to(context)]
        try:
            with tracing.span(
                f"{self.spec.durable} batch",
                kind=SpanKind.CONSUMER,
                links=links,
                attributes={
                    **self._messaging,
                    "messaging.batch.message_count": len(msgs),
                },
            ):
                await self._dispatch_all(msgs, contexts)
        finally:
            working.cancel()
            await asyncio.gather(working, return_exceptions=True)

    async def _keep_in_progress(self, msgs: list[Msg]) -> None:
        while True:
            await asyncio.sleep(self.spec.ack_wait_seconds / 3)
            for msg in msgs:
                try:
                    await msg.in_progress()
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - settled meanwhile, or the broker is away
                    pass

    @property
    def _messaging(self) -> dict[str, str]:
        return {
            "messaging.system": "nats",
            "messaging.destination.name": self.spec.subject,
            "messaging.consumer.group.name": self.spec.durable,
        }

    @contextmanager
    def _message_span(self, delivery: Delivery[E]) -> Iterator[None]:
        """Handling one message, as a child of the context it carries."""
        batch = trace.get_current_span().get_span_context()
        with tracing.span(
            f"process {delivery.msg.subject}",
            parent=delivery.context,
            kind=SpanKind.CONSUMER,
            links=[trace.Link(batch)] if batch.is_valid else [],
            attributes={
                **self._messaging,
                "messaging.message.id": (delivery.msg.headers or {}).get("Nats-Msg-Id", ""),
                "messaging.nats.delivery_attempt": delivery.attempt,
            },
        ):
            yield

    async def _dispatch_all(self, msgs: list[Msg], contexts: Sequence[Context | None]) -> None:
        readable: list[Delivery[E]] = []
        for msg, context in zip(msgs, contexts, strict=True):
            try:
                event = self._decode(msg.data)
            except Exception as exc:  # noqa: BLE001 - no replica could read it either
                self._log.error(
                    "consumer.bad_event",
                    consumer=self.spec.durable,
                    stream_seq=msg.metadata.sequence.stream,
                    error=repr(exc),
                )
                await msg.term()
                continue
            readable.append(Delivery(event, msg.metadata.num_delivered or 1, msg, context))
        if self._per_message:
            for delivery in readable:
                with self._message_span(delivery):
                    await self._settle([delivery])
        elif readable:
            await self._settle(readable)

    async def _settle(self, deliveries: Sequence[Delivery[E]]) -> None:
        try:
            await self._handle(deliveries)
        except RetryLater as later:
            _failed(f"retry in {later.delay:g}s")
            delay = later.delay
            await self._reply(deliveries, "nak", lambda m: m.nak(delay=delay))
            return
        except GiveUp:
            _failed("given up")
            await self._reply(deliveries, "term", lambda m: m.term())
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - redelivered after a pause, as any failure
            _failed(type(exc).__name__)
            self._log.exception(
                "consumer.handle_failed",
                consumer=self.spec.durable,
                messages=len(deliveries),
                retry_in=DEFAULT_RETRY_SECONDS,
            )
            await self._reply(deliveries, "nak", lambda m: m.nak(delay=DEFAULT_RETRY_SECONDS))
            return
        # Double ack: the server confirms, so a message is not redelivered once its effects
        # are committed unless the confirmation itself is lost. Only the batch's last waits
        # for it: the server takes a connection's messages in order, so its confirmation
        # comes after the plain acks sent before it were taken (a round trip per message
        # cost more than a small event's whole handling).
        *first, last = deliveries
        await self._reply(first, "ack", lambda m: m.ack())
        await self._reply([last], "ack", lambda m: m.ack_sync())

    async def _reply(
        self,
        deliveries: Sequence[Delivery[E]],
        what: str,
        send: Callable[[Msg], Awaitable[object]],
    ) -> None:
        for d in deliveries:
            try:
                await send(d.msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the ack wait redelivers it; effects are idempotent
                self._log.warning(
                    "consumer.reply_failed", consumer=self.spec.durable, reply=what, error=repr(exc)
                )


def _failed(why: str) -> None:
    """Marks the handling's span as failed; the message comes back, or never will."""
    trace.get_current_span().set_status(Status(StatusCode.ERROR, why))


def _describe(exc: BaseException) -> str:
    """repr() of nats-py's API errors is empty; their code and description are not."""
    code = getattr(exc, "code", None)
    description = getattr(exc, "description", None)
    if code or description:
        return f"{type(exc).__name__} {code}: {description}"
    return repr(exc)
