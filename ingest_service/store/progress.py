"""Records the stages the other services report for each debt, and each upload's counts.

Idempotent per debt: a debt already at an outcome does not count twice, and one that moves
from the other outcome (a failed e-mail sent after a retry) leaves that count.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from boletos.platform.database import raw_cursor
from ingest_service.domain.report import STAGE_DONE, STAGE_FAILED, STAGE_NUMBERS
from ingest_service.store.tables import DebtKey, debts, failures, uploads

_KEEP_REASON = sa.text(
    "INSERT INTO failures (debt_id, stage, upload_no, line, reason) "
    "SELECT debt_id, :stage, upload_no, line, :detail FROM debts "
    "WHERE debt_id = :k AND upload_no = :upload_no "
    "ON CONFLICT (debt_id, stage) DO UPDATE SET reason = excluded.reason"
).bindparams(sa.bindparam("k", type_=DebtKey))


def record_stage(
    conn: Connection, stage: str, outcome: int, items: Sequence[tuple[str, str, str]]
) -> dict[str, int]:
    """Marks debts as having reached `stage` (boleto or email) with `outcome` (1 done, 2
    failed). Each item is (debt_id, upload_id, detail): the nosso número of an issued
    boleto, the reason of a failure. Returns, per upload_id, how many debts moved."""
    column = {"boleto": debts.c.boleto_state, "email": debts.c.email_state}[stage]
    counters = {
        "boleto": {1: uploads.c.boletos_issued, 2: uploads.c.boletos_failed},
        "email": {1: uploads.c.emails_sent, 2: uploads.c.emails_failed},
    }[stage]
    other = 3 - outcome
    with_detail = stage == "boleto" and outcome == STAGE_DONE
    sqlite = conn.dialect.name == "sqlite"
    move = _move_statement(column.name, with_detail, "?" if sqlite else "%s")
    by_upload: dict[str, list[tuple[str, str]]] = {}
    for debt_id, upload_id, detail in items:
        by_upload.setdefault(upload_id, []).append((debt_id, detail))
    moved: dict[str, int] = {}
    for upload_id, entries in by_upload.items():
        upload_no = conn.execute(
            sa.select(uploads.c.upload_no).where(uploads.c.upload_id == upload_id)
        ).scalar()
        if upload_no is None:
            # No upload of ours: nothing to move (the consumer refused malformed ids already).
            moved[upload_id] = 0
            continue
        # The consumer let only canonical UUIDs through: their hex digits are the key's bytes.
        keys = [bytes.fromhex(d.replace("-", "")) if sqlite else d for d, _detail in entries]
        # A debt can only move from the other outcome if the upload counts some there; most
        # batches skip that second pass over every key.
        in_other = conn.execute(
            sa.select(counters[other]).where(uploads.c.upload_id == upload_id)
        ).scalar()
        changed = {other: 0}
        cursor = raw_cursor(conn)
        for previous in (0, other) if in_other else (0,):
            rows: list[tuple[object, ...]]
            if with_detail:
                rows = [
                    (outcome, detail, k, upload_no, previous)
                    for k, (_d, detail) in zip(keys, entries, strict=True)
                ]
            else:
                rows = [(outcome, k, upload_no, previous) for k in keys]
            cursor.executemany(move, rows)
            changed[previous] = cursor.rowcount
        _keep_reasons(conn, stage, outcome, upload_no, keys, entries, changed[other])
        count = changed[0] + changed[other]
        if count:
            conn.execute(
                uploads.update()
                .where(uploads.c.upload_id == upload_id)
                .values(
                    {
                        counters[outcome].name: counters[outcome] + count,
                        counters[other].name: counters[other] - changed[other],
                    }
                )
            )
        moved[upload_id] = count
    return moved


@functools.lru_cache(maxsize=16)
def _move_statement(column: str, with_detail: bool, mark: str) -> str:
    """The UPDATE that moves a debt to the outcome, for the driver's cursor: SQLAlchemy's
    parameters per row cost three times the database's own work on a second's e-mails.
    Only the upload's own debts: an event naming another's moves nothing."""
    detail = f", nosso_numero = {mark}" if with_detail else ""
    return (
        f"UPDATE debts SET {column} = {mark}{detail} "
        f"WHERE debt_id = {mark} AND upload_no = {mark} AND {column} = {mark}"
    )


def _keep_reasons(
    conn: Connection,
    stage: str,
    outcome: int,
    upload_no: int,
    keys: Sequence[object],
    entries: list[tuple[str, str]],
    recovered: int,
) -> None:
    """A failure's reason is kept for the report; a later success makes it history."""
    number = STAGE_NUMBERS[stage]
    if outcome == STAGE_FAILED:
        conn.execute(
            _KEEP_REASON,
            [
                {"k": k, "stage": number, "detail": detail, "upload_no": upload_no}
                for k, (_d, detail) in zip(keys, entries, strict=True)
            ],
        )
    elif recovered:
        conn.execute(
            failures.delete().where(
                failures.c.debt_id == sa.bindparam("k"),
                failures.c.stage == number,
                failures.c.upload_no == upload_no,
            ),
            [{"k": k} for k in keys],
        )
