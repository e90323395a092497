"""JetStream streams of the pipeline, declared idempotently by every service at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import nats
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from boletos.platform.logs import get_logger

log = get_logger("nats")

SUBJECT_DEBTS_IMPORTED = "ingest.debts.imported"
SUBJECT_UPLOAD_COMPLETED = "ingest.uploads.completed"
SUBJECT_BOLETOS_ISSUED = "boleto.boletos.issued"
SUBJECT_BOLETOS_FAILED = "boleto.boletos.failed"
SUBJECT_EMAILS_SENT = "mailer.emails.sent"
SUBJECT_EMAILS_FAILED = "mailer.emails.failed"


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]


# One stream per producing service, so each can be sized and retained on its own.
STREAMS = (
    StreamSpec("INGEST", ("ingest.>",)),
    StreamSpec("BOLETO", ("boleto.>",)),
    StreamSpec("MAILER", ("mailer.>",)),
)

# Publishers set Nats-Msg-Id; the server drops a repeat seen within this window.
DUPLICATE_WINDOW_SECONDS = 15 * 60
# Events are retained for a week so a consumer that was down can catch up.
MAX_AGE_SECONDS = 7 * 24 * 3600


def stream_config(spec: StreamSpec) -> StreamConfig:
    return StreamConfig(
        name=spec.name,
        subjects=list(spec.subjects),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=MAX_AGE_SECONDS,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_msg_size=8 * 1024 * 1024,
    )


async def ensure_streams(js: JetStreamContext) -> None:
    for spec in STREAMS:
        config = stream_config(spec)
        try:
            await js.add_stream(config)
        except BadRequestError:
            # The stream exists with other settings (an older release): bring it in line.
            await js.update_stream(config)


async def connect(url: str, name: str) -> nats.NATS:
    """A connection that reconnects for ever; while NATS is unreachable at start-up this
    keeps trying (logging each failure) until it answers or the caller is cancelled."""
    nc = nats.NATS()

    async def on_error(exc: Exception) -> None:
        log.warning("nats.error", url=url, error=str(exc) or type(exc).__name__)

    async def on_disconnect() -> None:
        # Closing the connection on purpose disconnects too; only a lost one is news.
        if not nc.is_closed:
            log.warning("nats.disconnected", url=url)

    async def on_reconnect() -> None:
        log.info("nats.reconnected", url=url)

    await nc.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnect,
    )
    return nc
