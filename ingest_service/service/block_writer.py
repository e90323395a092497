"""Stores prepared blocks: classifies each row and commits debts, errors and events."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from ingest_service.domain.errors import ErrorCode, RowError
from ingest_service.domain.report import RowOutcome
from ingest_service.domain.upload import BlockCounts, Conflict, StoredBlock, StoreRow, Upload
from ingest_service.service.events import DEBTS_PER_EVENT, keep_only, stamped
from ingest_service.service.ports import BlockTransaction, UploadLedger
from ingest_service.service.prepare import PreparedBlock

# Row errors stored per upload; past them only a count per code is kept, so a broken or
# hostile file (an unclosed quote before 100 MB of short lines) costs counts, not a table.
DEFAULT_MAX_ROW_ERRORS = 100_000


class BlockWriter:
    """Writes the blocks of one upload, in order.

    Rows whose debt_id is new become debts and events; a known id with the same content is
    a duplicate, with other content a conflict (reported, never stored).

    Several blocks share a transaction: new ids land all over the id index, so every commit
    rewrites most of its pages, and committing about once a second instead of once a block
    cuts that write amplification tenfold. The stream's end, or its break, commits the rest.
    """

    def __init__(
        self,
        store: UploadLedger,
        upload: Upload,
        on_commit: Callable[[], None],
        commit_seconds: float = 1.0,
        max_errors: int = DEFAULT_MAX_ROW_ERRORS,
    ) -> None:
        self._store = store
        self._upload = upload
        self._on_commit = on_commit
        self._commit_seconds = commit_seconds
        self._tx: BlockTransaction | None = None
        self._tx_started = 0.0
        self._next_event_seq = 0
        self._expect_known = False
        self._max_errors = max_errors
        # Carried on from an earlier session of the same upload.
        self._errors_listed = upload.errors_listed
        self._errors_unlisted = Counter(dict(upload.errors_unlisted))

    def write(self, block: PreparedBlock, bytes_received: int) -> None:
        if self._tx is None:
            self._tx = self._store.begin_blocks(self._expect_known)
            self._tx_started = time.monotonic()
        try:
            self._write(self._tx, block, bytes_received)
        except BaseException:
            self._tx.rollback()
            self._tx = None
            raise
        if time.monotonic() - self._tx_started >= self._commit_seconds:
            self.commit()

    def commit_if_due(self) -> None:
        """Commits what waits longer than the commit interval: a stream that slows down or
        stops keeps no received row from being durable for more than that."""
        if self._tx is not None and time.monotonic() - self._tx_started >= self._commit_seconds:
            self.commit()

    def commit(self) -> None:
        if self._tx is not None:
            tx, self._tx = self._tx, None
            self._expect_known = tx.debts.expect_known
            tx.commit()
            self._on_commit()

    def _write(self, tx: BlockTransaction, block: PreparedBlock, bytes_received: int) -> None:
        upload_no = self._upload.upload_no
        rows = block.store_rows()
        stored = tx.debts.store_block(upload_no, rows)
        errors = list(block.errors)
        if stored.conflicts:
            errors.extend(self._conflict_errors(tx, stored.conflicts))
            errors.sort(key=lambda e: e.line)
        counts = BlockCounts(
            rows=block.rows,
            accepted=stored.inserted,
            duplicates=stored.duplicates,
            conflicts=len(stored.conflicts),
            rejected=block.rejected,
            bytes_received=bytes_received,
        )
        tx.add_events(upload_no, self._events(block, rows, stored))
        if rows:
            outcomes = _outcomes(rows, stored)
            tx.debts.insert_outcomes(upload_no, rows[0][2], block.keys, block.lines, outcomes)
        if errors:
            room = max(self._max_errors - self._errors_listed, 0)
            listed, unlisted = errors[:room], errors[room:]
            if listed:
                tx.debts.insert_errors(upload_no, listed)
                self._errors_listed += len(listed)
            # Past the cap a hostile or broken file costs counts, not a row per error.
            self._errors_unlisted.update(int(e.code) for e in unlisted)
        counts.errors_listed = self._errors_listed
        counts.errors_unlisted = tuple(sorted(self._errors_unlisted.items()))
        tx.add_counts(upload_no, counts)

    def _events(
        self, block: PreparedBlock, rows: list[StoreRow], stored: StoredBlock
    ) -> list[tuple[str, str, bytes]]:
        if not stored.inserted:
            return []
        bodies = block.event_bodies
        if stored.new_lines is not None:
            new_lines = stored.new_lines
            kept = []
            for i, body in enumerate(bodies):
                part = rows[i * DEBTS_PER_EVENT : (i + 1) * DEBTS_PER_EVENT]
                fresh = sum(1 for r in part if r[2] in new_lines)
                if fresh == len(part):
                    kept.append(body)
                elif fresh:
                    kept.append(keep_only(body, new_lines))
            bodies = kept
        upload_id, beneficiary = self._upload.upload_id, self._upload.beneficiary
        first = self._next_event_seq
        self._next_event_seq += len(bodies)
        return [stamped(upload_id, first + i, body, beneficiary) for i, body in enumerate(bodies)]

    def _conflict_errors(self, tx: BlockTransaction, conflicts: list[Conflict]) -> list[RowError]:
        upload_no = self._upload.upload_no
        upload_ids = tx.upload_ids({c.original_upload_no for c in conflicts})
        errors = []
        for c in conflicts:
            where = (
                f"line {c.original_line} of this upload"
                if c.original_upload_no == upload_no
                else f"line {c.original_line} of upload {upload_ids.get(c.original_upload_no, '?')}"
            )
            errors.append(
                RowError(
                    c.line,
                    "debtId",
                    ErrorCode.DEBT_ID_CONFLICT,
                    f"debtId {c.debt_id} is already known with different content (from {where}); "
                    "this row was not stored",
                    c.debt_id,
                )
            )
        return errors


_ACCEPTED = bytes([RowOutcome.ACCEPTED])
_DUPLICATE = bytes([RowOutcome.DUPLICATE])


def _outcomes(rows: list[StoreRow], stored: StoredBlock) -> bytes:
    """One RowOutcome byte per row. The store says which rows are new only when some are
    and some are not; every other row is a duplicate unless it is a conflict."""
    if stored.new_lines is None:
        return _ACCEPTED * len(rows)
    conflicts = {c.line for c in stored.conflicts}
    if not stored.new_lines and not conflicts:
        return _DUPLICATE * len(rows)
    new = stored.new_lines
    return bytes(
        RowOutcome.ACCEPTED
        if line in new
        else RowOutcome.CONFLICT
        if line in conflicts
        else RowOutcome.DUPLICATE
        for _key, _hash, line in rows
    )
