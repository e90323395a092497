"""Set-based storage of a block's rows: load them into a session-local table, insert the
new ids in one statement, and classify the rest in SQL. Python never touches a row that
needs no decision, which keeps a re-sent million-row file as fast as the first send."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection

from boletos.platform.database import raw_cursor
from boletos.platform.outbox import Event, insert_events
from ingest_service.domain.errors import RowError
from ingest_service.domain.upload import Conflict, StoredBlock, StoreRow

_NOT_OURS = "(d.upload_no <> :upload_no OR d.line <> i.line)"
# Probing the id index in id order keeps each probe near the last one.
_INCOMING = "(SELECT * FROM incoming_debts ORDER BY debt_id) i"

# (rows whose id is known from elsewhere, how many of those differ in content)
_COUNT_KNOWN = f"""
SELECT count(*), count(CASE WHEN d.content_hash <> i.content_hash THEN 1 END) FROM {_INCOMING}
JOIN debts d ON d.debt_id = i.debt_id WHERE {_NOT_OURS}
"""
_CONFLICTS = f"""
SELECT i.line, i.debt_id, d.upload_no, d.line FROM {_INCOMING}
JOIN debts d ON d.debt_id = i.debt_id
WHERE {_NOT_OURS} AND d.content_hash <> i.content_hash
"""
_NEW_LINES = f"""
SELECT i.line FROM {_INCOMING} JOIN debts d ON d.debt_id = i.debt_id
WHERE d.upload_no = :upload_no AND d.line = i.line
"""
# In id order the index is walked rather than probed at random, which halves the cost on
# PostgreSQL; among rows repeating an id within the block, the first line wins.
_INSERT_NEW = """
INSERT INTO debts (debt_id, content_hash, upload_no, line)
SELECT debt_id, content_hash, :upload_no, line FROM incoming_debts WHERE true
ORDER BY debt_id, line
ON CONFLICT (debt_id) DO NOTHING
"""


# Loading the session table, multi-row VALUES statements bind parameters faster than
# executemany does row by row (into the indexed debts table it is the other way round);
# 333 rows of 3 values stay under SQLite's oldest limit of 999 parameters.
_ROWS_PER_STATEMENT = 333


def _parts(rows: Sequence[StoreRow], size: int) -> Iterable[Sequence[StoreRow]]:
    return (rows[i : i + size] for i in range(0, len(rows), size))


@lru_cache(maxsize=4)
def _load_statement(count: int) -> str:
    return "INSERT INTO incoming_debts VALUES " + ",".join(["(?,?,?)"] * count)


class DebtWriter:
    """Stores blocks within the caller's transaction.

    Each pass over the id index costs about as much as the insert itself, so the writer
    bets on the next block looking like the last: a first send is all new ids (insert, and
    done), a re-send all known ones (count them, and done).
    """

    def __init__(self, conn: Connection, expect_known: bool = False) -> None:
        self._cursor = raw_cursor(conn)
        self._sqlite = conn.dialect.name == "sqlite"
        self.expect_known = expect_known
        if not self._sqlite:
            # A block is always small beside the debts table: probe its index row by row.
            # The planner, not knowing the session table's size, would scan the whole table.
            self._cursor.execute("SET LOCAL enable_hashjoin = off")
            self._cursor.execute("SET LOCAL enable_mergejoin = off")

    def store_block(self, upload_no: int, rows: Sequence[StoreRow]) -> StoredBlock:
        if not rows:
            return StoredBlock(inserted=0)
        inserted = 0
        if not self.expect_known and self._sqlite:
            inserted = self._insert_directly(upload_no, rows)
            if inserted == len(rows):
                return StoredBlock(inserted=inserted)  # all new: one pass over the index
        self._load(rows)
        stored = self._store_loaded(upload_no, len(rows), inserted)
        self._cursor.execute("DELETE FROM incoming_debts")
        self.expect_known = 2 * stored.inserted < len(rows)
        return stored

    def _insert_directly(self, upload_no: int, rows: Sequence[StoreRow]) -> int:
        self._cursor.executemany(
            "INSERT INTO debts (debt_id, content_hash, upload_no, line) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (debt_id) DO NOTHING",
            [(key, content_hash, upload_no, line) for key, content_hash, line in rows],
        )
        return self._cursor.rowcount

    def _store_loaded(self, upload_no: int, count: int, inserted: int) -> StoredBlock:
        """Classifies the loaded rows; `inserted` of them may already be stored as ours."""
        if self.expect_known:
            known, differing = self._run(_COUNT_KNOWN, upload_no).fetchone()
            if known == count:
                return StoredBlock(
                    inserted=0,
                    duplicates=known - differing,
                    conflicts=self._conflicts(upload_no) if differing else [],
                    new_lines=set(),
                )
        inserted += self._run(_INSERT_NEW, upload_no).rowcount
        if inserted == count:
            return StoredBlock(inserted=inserted)
        known, differing = self._run(_COUNT_KNOWN, upload_no).fetchone()
        return StoredBlock(
            inserted=inserted,
            duplicates=known - differing,
            conflicts=self._conflicts(upload_no) if differing else [],
            new_lines={line for (line,) in self._run(_NEW_LINES, upload_no)} if inserted else set(),
        )

    def _conflicts(self, upload_no: int) -> list[Conflict]:
        return [
            Conflict(line, self._debt_id(debt_id), orig_upload, orig_line)
            for line, debt_id, orig_upload, orig_line in self._run(_CONFLICTS, upload_no)
        ]

    def insert_errors(self, upload_no: int, errors: Iterable[RowError]) -> None:
        values = [(upload_no, e.line, e.column, int(e.code), e.message, e.debt_id) for e in errors]
        if self._sqlite:
            self._cursor.executemany(
                "INSERT INTO row_errors (upload_no, line, column_name, code, message, debt_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
            return
        with self._cursor.copy(
            "COPY row_errors (upload_no, line, column_name, code, message, debt_id) FROM STDIN"
        ) as copy:
            for value in values:
                copy.write_row(value)

    def insert_outcomes(
        self, upload_no: int, first_line: int, keys: bytes, lines: bytes, outcomes: bytes
    ) -> None:
        """What a block did with each of its valid rows, for the upload's report: the block's
        own arrays (16-byte ids, array('q') lines) and one outcome byte per row."""
        values = (upload_no, first_line, keys, lines, outcomes)
        if self._sqlite:
            self._cursor.execute("INSERT INTO upload_blocks VALUES (?, ?, ?, ?, ?)", values)
        else:
            self._cursor.execute("INSERT INTO upload_blocks VALUES (%s, %s, %b, %b, %b)", values)

    def insert_events(self, events: Sequence[Event]) -> None:
        """Outbox rows, written with the debts they announce."""
        insert_events(self._cursor, "sqlite" if self._sqlite else "postgresql", events)

    def _load(self, rows: Sequence[StoreRow]) -> None:
        cur = self._cursor
        if self._sqlite:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS incoming_debts "
                "(debt_id BLOB NOT NULL, content_hash INTEGER NOT NULL, line INTEGER NOT NULL)"
            )
            for part in _parts(rows, _ROWS_PER_STATEMENT):
                cur.execute(
                    _load_statement(len(part)),
                    [v for row in part for v in row],
                )
            return
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_debts "
            "(debt_id uuid NOT NULL, content_hash bigint NOT NULL, line bigint NOT NULL)"
        )
        with cur.copy("COPY incoming_debts (debt_id, content_hash, line) FROM STDIN") as copy:
            write = copy.write_row
            for key, content_hash, line in rows:
                # PostgreSQL reads a uuid from 32 hex digits without dashes.
                write((key.hex(), content_hash, line))

    def _run(self, sql: str, upload_no: int) -> Any:
        if self._sqlite:
            return self._cursor.execute(
                sql.replace(":upload_no", "?"), (upload_no,) * sql.count(":upload_no")
            )
        return self._cursor.execute(sql.replace(":upload_no", "%(u)s"), {"u": upload_no})

    def _debt_id(self, value: object) -> str:
        return str(uuid.UUID(bytes=value)) if isinstance(value, bytes) else str(value)
