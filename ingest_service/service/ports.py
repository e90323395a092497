"""What the use cases need of the store, as protocols: the SQL store implements them and
the use cases never import it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from boletos.platform.outbox import Event
from ingest_service.domain.errors import RowError
from ingest_service.domain.upload import BlockCounts, StoredBlock, StoreRow, Upload, UploadState


class DebtRows(Protocol):
    """Writes a block's rows within a block transaction."""

    expect_known: bool

    def store_block(self, upload_no: int, rows: Sequence[StoreRow]) -> StoredBlock: ...

    def insert_errors(self, upload_no: int, errors: Iterable[RowError]) -> None: ...

    def insert_outcomes(
        self, upload_no: int, first_line: int, keys: bytes, lines: bytes, outcomes: bytes
    ) -> None: ...


class BlockTransaction(Protocol):
    """Writes of one or more blocks that commit together."""

    @property
    def debts(self) -> DebtRows: ...

    def add_events(self, upload_no: int, events: Sequence[Event]) -> None: ...

    def add_counts(self, upload_no: int, counts: BlockCounts) -> None: ...

    def upload_ids(self, upload_nos: set[int]) -> dict[int, str]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UploadLedger(Protocol):
    """Uploads and the transactions that store their blocks."""

    def begin_blocks(self, expect_known: bool = False) -> BlockTransaction: ...

    def finish_upload(
        self, upload_no: int, state: UploadState, reason: str = "", content_sha256: str = ""
    ) -> None: ...

    def get_upload(self, upload_id: str) -> Upload | None: ...
