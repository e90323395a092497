"""An upload's life and its account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum


class UploadState(IntEnum):
    """Mirrors boletos.v1.UploadState."""

    RECEIVING = 1
    INTERRUPTED = 2
    COMPLETED = 3
    REJECTED = 4


@dataclass(frozen=True, slots=True)
class Upload:
    upload_no: int
    upload_id: str
    file_name: str
    client_request_id: str
    state: UploadState
    rows: int
    accepted: int
    duplicates: int
    conflicts: int
    rejected: int
    bytes_received: int
    rejection_reason: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    boletos_issued: int = 0
    boletos_failed: int = 0
    emails_sent: int = 0
    emails_failed: int = 0
    # Debts the bank reported paid, each once, and the sum paid in centavos.
    boletos_paid: int = 0
    paid_cents: int = 0
    # When the upload was found settled and announced (UploadCompleted).
    completed_at: dt.datetime | None = None
    # SHA-256 of the file's bytes, hex, once the whole file arrived.
    content_sha256: str = ""
    # The credential that sent it; empty for uploads older than access control.
    owner: str = ""
    # Key of the beneficiary its debts are owed to.
    beneficiary: str = "default"
    # Row errors stored (listed); past the cap only their count per code is kept.
    errors_listed: int = 0
    errors_unlisted: tuple[tuple[int, int], ...] = ()  # (ErrorCode, count), by code

    @property
    def settled(self) -> bool:
        """Every row it accepted reached an end (e-mail sent or failed, or no boleto possible)
        and the boleto service's word on each has been heard: the services report
        independently, so an e-mail can be counted before the boleto it carries."""
        if self.state == UploadState.REJECTED:
            return True
        if self.state not in (UploadState.COMPLETED, UploadState.INTERRUPTED):
            return False
        boletos_heard = self.boletos_issued + self.boletos_failed >= self.accepted
        emails_done = self.emails_sent + self.emails_failed + self.boletos_failed >= self.accepted
        return boletos_heard and emails_done


# An accepted row as the store keys it: (16-byte debt id, content hash, line). A plain tuple,
# not a named one: a block holds tens of thousands and they are built by zip.
StoreRow = tuple[bytes, int, int]


@dataclass(slots=True)
class BlockCounts:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    bytes_received: int = 0
    # Errors stored so far and those past the cap, by code (the whole upload's, not the block's).
    errors_listed: int = 0
    errors_unlisted: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Conflict:
    """A row whose debtId is known with other content, and where that content came from."""

    line: int
    debt_id: str
    original_upload_no: int
    original_line: int


@dataclass(slots=True)
class StoredBlock:
    """What storing a block's rows did: new debts, duplicates, conflicts."""

    inserted: int
    duplicates: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    # Lines inserted now, when only some were; None when every row was.
    new_lines: set[int] | None = None
