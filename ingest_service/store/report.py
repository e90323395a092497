"""Reads an upload's report in line order, a page at a time, however large the file.

Two streams meet by line number: the rows each block stored (upload_blocks, the debts'
progress looked up a page at a time) and the row errors. A line in both is a conflict; in
the errors only, a rejected row. Pages go through the DBAPI cursor: at a million lines,
building statements and rows through SQLAlchemy would cost more than the reading itself.
"""

from __future__ import annotations

import uuid
from array import array
from collections.abc import Iterator, Sequence
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from boletos.platform.database import prefer_index_probes, raw_cursor
from ingest_service.domain.errors import ErrorCode
from ingest_service.domain.report import (
    STAGE_FAILED,
    STAGE_NUMBERS,
    Failure,
    ReportLine,
    RowOutcome,
    debt_line,
    error_line,
)
from ingest_service.store.tables import failures, row_errors, upload_blocks

# (line, debt_id, conflict, messages) of a line with errors
_ErrorLine = tuple[int, str, bool, list[str]]
# (boleto_state, email_state, nosso número, failure reason, paid cents or None while
# unpaid, day paid) of a stored debt
_Progress = tuple[int, int, str, str, int | None, str]
_NO_PROGRESS: _Progress = (0, 0, "", "", None, "")
_CONFLICT = RowOutcome.CONFLICT


def iter_report(engine: Engine, upload_no: int, batch: int = 1000) -> Iterator[list[ReportLine]]:
    """The report in batches of about `batch` lines, in line order."""
    errors = _errors(engine, upload_no, batch)
    pending = next(errors, None)
    out: list[ReportLine] = []
    for page in _stored(engine, upload_no, batch):
        for line, debt_id, outcome, progress in page:
            while pending is not None and pending[0] < line:
                out.append(error_line(*pending))
                pending = next(errors, None)
            if outcome is _CONFLICT:
                messages: Sequence[str] = ()
                if pending is not None and pending[0] == line:
                    messages = pending[3]
                    pending = next(errors, None)
                out.append(error_line(line, debt_id, True, messages))
            else:
                out.append(debt_line(line, debt_id, outcome, *progress))
        if len(out) >= batch:
            yield out
            out = []
    while pending is not None:
        out.append(error_line(*pending))
        pending = next(errors, None)
        if len(out) >= batch:
            yield out
            out = []
    if out:
        yield out


def _stored(
    engine: Engine, upload_no: int, page: int
) -> Iterator[list[tuple[int, str, RowOutcome, _Progress]]]:
    """Every valid row of the upload in line order, a page at a time."""
    c = upload_blocks.c
    after = -1
    outcomes_by_byte = {int(o): o for o in RowOutcome}
    while True:
        with engine.connect() as conn:
            block = conn.execute(
                sa.select(c.first_line, c.debt_ids, c.lines, c.outcomes)
                .where(c.upload_no == upload_no, c.first_line > after)
                .order_by(c.first_line)
                .limit(1)
            ).first()
        if block is None:
            return
        after = block.first_line
        keys = bytes(block.debt_ids)
        lines = array("q", bytes(block.lines))
        outcomes = [outcomes_by_byte[b] for b in bytes(block.outcomes)]
        for start in range(0, len(lines), page):
            end = min(start + page, len(lines))
            ids = [keys[i * 16 : i * 16 + 16] for i in range(start, end)]
            kinds = outcomes[start:end]
            wanted = [k for k, o in zip(ids, kinds, strict=True) if o is not _CONFLICT]
            with engine.connect() as conn:
                progress = _progress(conn, wanted)
            yield [
                (line, _text(key), kind, progress.get(key, _NO_PROGRESS))
                for line, key, kind in zip(lines[start:end], ids, kinds, strict=True)
            ]


def _progress(conn: Connection, keys: Sequence[bytes]) -> dict[bytes, _Progress]:
    if not keys:
        return {}
    cursor = raw_cursor(conn)
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(_sqlite_lookup(len(keys)), keys)
            rows = cursor.fetchall()
        else:
            # A page of ids is always small beside the debts table.
            prefer_index_probes(cursor)
            # Ids go as hex text and come back as positions: cheaper than uuid objects.
            cursor.execute(_PG_LOOKUP, ([k.hex() for k in keys],))
            rows = [(keys[i - 1], *rest) for i, *rest in cursor.fetchall()]
        failed = [r[0] for r in rows if STAGE_FAILED in (r[1], r[2])]
        reasons = _reasons(conn, failed) if failed else {}
    finally:
        cursor.close()
    return {k: (b, e, n or "", reasons.get(k, ""), paid, _day(on)) for k, b, e, n, paid, on in rows}


@lru_cache(maxsize=8)
def _sqlite_lookup(count: int) -> str:
    return (
        "SELECT debt_id, boleto_state, email_state, nosso_numero, paid_cents, paid_on "
        "FROM debts "
        f"WHERE debt_id IN ({','.join('?' * count)})"
    )


_PG_LOOKUP = """
SELECT k.i, d.boleto_state, d.email_state, d.nosso_numero, d.paid_cents, d.paid_on
FROM unnest(%s::uuid[]) WITH ORDINALITY AS k(id, i) JOIN debts d ON d.debt_id = k.id
"""


def _reasons(conn: Connection, keys: list[bytes]) -> dict[bytes, str]:
    f = failures.c
    sqlite = conn.dialect.name == "sqlite"
    bound = keys if sqlite else [_text(k) for k in keys]
    found: dict[bytes, str] = {}
    # By stage: an e-mail's reason outranks the boleto's.
    for debt_id, reason in conn.execute(
        sa.select(f.debt_id, f.reason).where(f.debt_id.in_(bound)).order_by(f.stage)
    ):
        found[_key(debt_id)] = reason
    return found


def _errors(engine: Engine, upload_no: int, page: int) -> Iterator[_ErrorLine]:
    """The upload's row errors in line order, one item per line."""
    c = row_errors.c
    after = (-1, -1)
    pending: _ErrorLine | None = None
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.line, c.id, c.code, c.message, c.debt_id)
                .where(
                    c.upload_no == upload_no,
                    sa.or_(c.line > after[0], sa.and_(c.line == after[0], c.id > after[1])),
                )
                .order_by(c.line, c.id)
                .limit(page)
            ).all()
        for r in rows:
            if pending is not None and pending[0] != r.line:
                yield pending
                pending = None
            if pending is None:
                pending = (r.line, r.debt_id, False, [])
            pending[3].append(r.message)
            if r.code == ErrorCode.DEBT_ID_CONFLICT:
                pending = (r.line, pending[1] or r.debt_id, True, pending[3])
        if len(rows) < page:
            if pending is not None:
                yield pending
            return
        after = (rows[-1].line, rows[-1].id)


def first_failures(engine: Engine, upload_no: int, limit: int) -> list[Failure]:
    """The upload's debts whose boleto or e-mail failed, in line order."""
    f = failures.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(f.line, f.debt_id, f.stage, f.reason)
            .where(f.upload_no == upload_no)
            .order_by(f.line, f.stage)
            .limit(limit)
        ).all()
    return [Failure(r.line, _text(_key(r.debt_id)), _STAGE_NAMES[r.stage], r.reason) for r in rows]


_STAGE_NAMES = {number: name for name, number in STAGE_NUMBERS.items()}


def _day(value: object) -> str:
    # SQLite keeps the ISO text it was given; PostgreSQL hands back a date.
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()  # type: ignore[attr-defined]


def _key(value: object) -> bytes:
    return value if isinstance(value, bytes) else uuid.UUID(str(value)).bytes


def _text(key: bytes) -> str:
    h = key.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
