"""What the mailer's stores share: the engine and the debt keys of its tables, the delivery
statuses, the scheduler's lock, and queuing notices, which the schedule and the bank's
payments both do.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from mailer_service.domain.delivery import DeliveryKind, DeliveryStatus
from mailer_service.store.tables import notices

PENDING, SENDING, SENT, FAILED, UNCERTAIN = (
    DeliveryStatus.PENDING,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNCERTAIN,
)

# The scheduler's PostgreSQL advisory lock: whoever holds it is the one replica deciding
# notices, for the length of one transaction. Any fixed number no other code uses.
SCHEDULER_LOCK = 0x6D61696C_6E6F7469  # "mailnoti"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Store:
    """A store on the mailer's database. Its tables key a debt by its UUID: as 16 bytes on
    SQLite, as the UUID type on PostgreSQL (tables.DebtKey)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"

    def _key(self, debt_id: str) -> bytes | str:
        return uuid.UUID(debt_id).bytes if self._sqlite else debt_id

    def _id(self, key: object) -> str:
        return str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else str(key)


def queue_notices(
    conn: sa.Connection, kind: DeliveryKind, targets: Iterable[Any], now: dt.datetime
) -> int:
    """Pending notices of one kind for (debt key, upload, line) triples; a notice that
    exists already is left as it is. Returns how many are new."""
    rows = [
        {
            "debt_id": key,
            "kind": int(kind),
            "upload_id": upload_id,
            "line": line,
            "status": PENDING,
            "due_at": now,
            "updated_at": now,
        }
        for key, upload_id, line in targets
    ]
    if not rows:
        return 0
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    insert = (
        dialect.insert(notices)
        .on_conflict_do_nothing(index_elements=["debt_id", "kind"])
        .returning(notices.c.debt_id)
    )
    return len(conn.execute(insert, rows).all())
