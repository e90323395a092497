"""JetStream streams of the pipeline, declared idempotently at start-up by the service that
produces each (by every service where NATS has no users), and the connection every service
opens to NATS: one server or the nodes of a cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass

import nats
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, BadRequestError, NotFoundError, ServiceUnavailableError

from boletos.platform.logs import get_logger
from boletos.platform.nats_auth import NatsAuth, refusal, report_refusal, without_credentials

log = get_logger("nats")

SUBJECT_DEBTS_IMPORTED = "ingest.debts.imported"
SUBJECT_UPLOAD_COMPLETED = "ingest.uploads.completed"
SUBJECT_BOLETOS_ISSUED = "boleto.boletos.issued"
SUBJECT_BOLETOS_FAILED = "boleto.boletos.failed"
SUBJECT_BOLETOS_REGISTERED = "boleto.boletos.registered"
SUBJECT_BOLETOS_REJECTED = "boleto.boletos.rejected"
SUBJECT_BOLETOS_PAID = "boleto.boletos.paid"
SUBJECT_BOLETOS_WRITTEN_OFF = "boleto.boletos.written_off"
SUBJECT_BOLETOS_REDATED = "boleto.boletos.redated"
SUBJECT_EMAILS_SENT = "mailer.emails.sent"
SUBJECT_EMAILS_FAILED = "mailer.emails.failed"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    # What the stream stores per debt, with room to spare: its events measured through a real
    # upload (per debt: DebtsImported 106 B in messages of 1,000; BoletosIssued 258 B;
    # EmailsSent 148 B of payload, up to ~290 B stored when an e-mail goes out on its own).
    bytes_per_debt: int

    def max_bytes(self, max_debts: int) -> int:
        return self.bytes_per_debt * max_debts


# One stream per producing service, so each can be sized and retained on its own.
STREAMS = (
    StreamSpec("INGEST", ("ingest.>",), bytes_per_debt=128),
    StreamSpec("BOLETO", ("boleto.>",), bytes_per_debt=320),
    StreamSpec("MAILER", ("mailer.>",), bytes_per_debt=320),
)

# Debts whose events each stream has room for within MAX_AGE_SECONDS: a 1.1M-row file a
# day, with room. JetStream sets each stream's max_bytes aside on every node that keeps it,
# against that node's store limit (by default 75% of the free disk): 6.1 GB a node here.
DEFAULT_MAX_DEBTS = 8_000_000

# Publishers set Nats-Msg-Id; the server drops a repeat seen within this window.
DUPLICATE_WINDOW_SECONDS = 15 * 60
# Events are retained for a week so a consumer that was down can catch up.
MAX_AGE_SECONDS = 7 * 24 * 3600
MAX_MSG_BYTES = 8 * 1024 * 1024
# How long a service waits before declaring its streams again on a cluster still electing
# its leader.
DECLARE_RETRY_SECONDS = 1.0


def stream_config(
    spec: StreamSpec, replicas: int = 1, max_debts: int = DEFAULT_MAX_DEBTS
) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        # A full stream refuses new events rather than dropping its oldest: under LIMITS
        # retention the oldest may be ones a consumer that was down has not read yet, and
        # dropping them would lose work without a word. Refused events wait in the
        # publisher's outbox (outbox.publish_failed names the limit) until there is room.
        discard=DiscardPolicy.NEW,
        max_age=MAX_AGE_SECONDS,
        max_bytes=spec.max_bytes(max_debts),
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_msg_size=MAX_MSG_BYTES,
        num_replicas=replicas,
    )


async def ensure_streams(
    js: JetStreamContext,
    replicas: int = 1,
    max_debts: int = DEFAULT_MAX_DEBTS,
    names: Collection[str] | None = None,
) -> None:
    """Creates the streams, or brings existing ones in line (limits, replicas); `names`:
    only those (a service's NATS user may declare only its own). A cluster without a leader
    yet is waited for, as connect() waits for a server."""
    for spec in STREAMS:
        if names is not None and spec.name not in names:
            continue
        config = stream_config(spec, replicas, max_debts)
        while True:
            try:
                await _declare(js, config)
                break
            except (ServiceUnavailableError, NoRespondersError, NatsTimeoutError) as exc:
                log.warning("nats.streams_unavailable", stream=spec.name, error=repr(exc))
                await asyncio.sleep(DECLARE_RETRY_SECONDS)
            except APIError as exc:
                if _settling(exc):
                    log.warning("nats.streams_unavailable", stream=spec.name, error=str(exc))
                    await asyncio.sleep(DECLARE_RETRY_SECONDS)
                    continue
                # Settings the server cannot honour (max_bytes beyond its store, replicas
                # beyond its cluster) will not fare better on a retry: say which.
                log.error(
                    "nats.stream_refused",
                    stream=spec.name,
                    error=exc.description,
                    max_bytes=config.max_bytes,
                    replicas=replicas,
                )
                raise


# A cluster still forming has no peers to place a stream on yet.
NO_SUITABLE_PEERS = 10005


def _settling(exc: APIError) -> bool:
    """A refusal a moment will change: services starting together on a new cluster find a
    stream one of them just made "already in use" and then "not found" until it is placed,
    or no peers to place it on while the nodes meet."""
    return isinstance(exc, NotFoundError) or exc.err_code == NO_SUITABLE_PEERS


async def _declare(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        # The stream exists with other settings (an older release): bring it in line.
        await js.update_stream(config)


def servers(url: str) -> list[str]:
    """NATS_URL's servers: one URL, or the nodes of a cluster separated by commas."""
    return [part.strip() for part in url.split(",") if part.strip()]


async def connect(url: str, name: str, auth: NatsAuth | None = None) -> nats.NATS:
    """A connection that reconnects for ever, to whichever of the servers answers; while
    none is reachable at start-up this keeps trying (logging each failure) until one
    answers or the caller is cancelled. `auth`: the service's credentials, when it has any."""
    nc = nats.NATS()
    where = without_credentials(url)

    async def on_error(exc: Exception) -> None:
        reason = refusal(exc)
        if reason is not None:
            report_refusal(reason, exc, where)
            return
        log.warning("nats.error", url=where, error=str(exc) or type(exc).__name__)

    async def on_disconnect() -> None:
        # Closing the connection on purpose disconnects too; only a lost one is news.
        if not nc.is_closed:
            log.warning("nats.disconnected", url=where)

    async def on_reconnect() -> None:
        log.info("nats.reconnected", url=where)

    await nc.connect(
        servers=servers(url),
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
        **(auth or NatsAuth()).connect_options(),
    )
    return nc
