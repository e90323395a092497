"""Announces an upload once it settles, in the transaction that settles it.

The mark (completed_at) and the UploadCompleted outbox row commit together, and the mark is
taken by a conditional UPDATE: of replicas racing on the same upload only one's UPDATE finds
it unmarked, so the event is written exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from boletos.platform import trace_context
from boletos.platform.outbox import Event
from ingest_service.domain.upload import Upload, UploadState
from ingest_service.store.rows import upload_from_row
from ingest_service.store.tables import outbox, uploads

# Encodes the UploadCompleted event of an upload settled at a time.
Announce = Callable[[Upload, dt.datetime], Event]


def complete_settled(
    conn: Connection, which: sa.ColumnElement[bool], announce: Announce
) -> list[str]:
    """Marks the settled uploads among `which` completed and adds their events; returns
    their ids. Settled: refused as a whole, or read to the end with every accepted debt's
    e-mail sent or failed, or its boleto failed."""
    c = uploads.c
    # As Upload.settled says, in SQL.
    settled = sa.or_(
        c.state == int(UploadState.REJECTED),
        sa.and_(
            c.state.in_([int(UploadState.COMPLETED), int(UploadState.INTERRUPTED)]),
            c.boletos_issued + c.boletos_failed >= c.accepted,
            c.emails_sent + c.emails_failed + c.boletos_failed >= c.accepted,
        ),
    )
    now = dt.datetime.now(dt.UTC)
    marked = conn.execute(
        uploads.update()
        .where(which, c.completed_at.is_(None), settled)
        .values(completed_at=now)
        .returning(*uploads.c)
    ).all()
    for row in marked:
        subject, msg_id, payload = announce(upload_from_row(row), now)
        conn.execute(
            outbox.insert().values(
                subject=subject,
                msg_id=msg_id,
                payload=payload,
                published=False,
                created_at=now,
                trace_context=trace_context.current_text(),
            )
        )
    return [row.upload_id for row in marked]
