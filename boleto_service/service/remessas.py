"""Remessas: cutting the boletos in none yet into CNAB 240 files, writing those files, and the
scheduler that does it by itself.

A cut commits the remessas row and the boletos it carries first, then writes the file: the
file's bytes follow from those rows alone (its generation time is the row's created_at), so a
file lost to a crash between the two, or deleted later, is written again byte for byte. Every
file is written whole or not at all (a temporary file in the same directory, fsync, rename).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from prometheus_client import Counter as MetricCounter

from boleto_service.domain.beneficiaries import Beneficiary
from boleto_service.domain.cnab240 import RemessaDetails, RemessaHeader, RemessaTitle
from boleto_service.domain.remessa_policy import (
    Account,
    Cut,
    CutInProgress,
    CutPer,
    Lock,
    RemessaRecord,
    RemessaSettings,
    Take,
    last_cut,
    quiet_since,
    taker,
    tick_seconds,
)
from boletos.platform.brasilia import BRASILIA
from boletos.platform.logs import get_logger
from boletos.platform.stopping import Stopping

log = get_logger("remessa")


class RemessaLedger(Protocol):
    """The remessa store as this layer uses it (store/remessas.py is the real one)."""

    def cut(
        self,
        account: Account,
        *,
        limit: int,
        now: dt.datetime,
        take: Take,
        upload_id: str | None = None,
        issued_before: dt.datetime | None = None,
        lock: Lock = Lock.WAIT,
        entries: bool = True,
    ) -> Cut | None: ...

    def instructions_waiting(self, account: Account) -> bool: ...

    def waiting_uploads(self, account: Account, quiet_before: dt.datetime | None) -> list[str]: ...

    def titles_of(self, remessa_no: int) -> list[RemessaTitle]: ...

    def mark_written(
        self, remessa_no: int, size_bytes: int, sha256: str, written_at: dt.datetime
    ) -> None: ...

    def unwritten(self) -> list[RemessaRecord]: ...

    def find(self, remessa_id: str) -> RemessaRecord | None: ...

    def page(
        self, before: int | None, limit: int, beneficiary: str = ""
    ) -> list[RemessaRecord]: ...

    def left_out(self) -> dict[str, int]: ...


FILES_WRITTEN = MetricCounter(
    "boletos_remessa_files_total", "Remessa files written (a lost file written again: not)."
)
TITLES_WRITTEN = MetricCounter(
    "boletos_remessa_titles_total", "Titles (boletos) in the remessa files written."
)
UNREGISTRABLE = MetricCounter(
    "boletos_remessa_unregistrable_total",
    "Boletos left out of every remessa because the bank cannot register them, by reason.",
    ["reason"],
)

# A temporary file this old is a crashed write's; younger ones may be another replica's.
STALE_TEMPORARY_SECONDS = 3600
_TEMPORARY_SUFFIX = ".tmp"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RemessaUnavailable(Exception):
    """No remessa file can be made here: remessas are off (REMESSAS_DISABLED), or the
    beneficiary account is no longer the one the remessa was cut for
    (REMESSA_ACCOUNT_CHANGED). `reason` is the ErrorInfo reason an RPC answers with."""

    def __init__(self, reason: str, subject: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.subject = subject


class Remessas:
    """The use case, synchronous (the scheduler and the RPCs run it in threads): every
    method may block on the store and the disk."""

    def __init__(
        self,
        store: RemessaLedger,
        beneficiary: Beneficiary,
        settings: RemessaSettings,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.store = store
        self.settings = settings
        self.now = now
        self.beneficiary = beneficiary
        config = beneficiary.config
        self.account = Account(config.bank_code, config.agencia, config.conta, beneficiary.key)
        self._directory = Path(settings.directory) if settings.directory else None

    @property
    def enabled(self) -> bool:
        return self._directory is not None

    # -- cutting -----------------------------------------------------------------------

    def cut_once(
        self,
        *,
        upload_id: str | None = None,
        issued_before: dt.datetime | None = None,
        lock: Lock = Lock.WAIT,
        entries: bool = True,
    ) -> Cut | None:
        """One remessa (at most max_titles boletos) committed and written; None when nothing
        was waiting. Waiting instructions go in too; with `entries` off, only they. Raises
        CutInProgress when `lock` is TRY and another replica cuts."""
        self._require_directory()
        started = time.monotonic()
        now = self.now()
        details = self.details(now)
        cut = self.store.cut(
            self.account,
            limit=self.settings.max_titles,
            now=now,
            take=taker(details),
            upload_id=upload_id,
            issued_before=issued_before,
            lock=lock,
            entries=entries,
        )
        if cut is None:
            return None
        if cut.left_out:
            for reason, count in cut.left_out.items():
                UNREGISTRABLE.labels(reason).inc(count)
            # Counts only: the store knows which boletos (remessa_no 0); no payer in a log.
            log.warning(
                "remessa.unregistrable",
                boletos=sum(cut.left_out.values()),
                reasons=dict(cut.left_out),
                upload_id=upload_id or "",
            )
        if cut.record is None:
            return cut
        record = self._write(cut.record, details)
        log.info(
            "remessa.cut",
            remessa_id=record.remessa_id,
            nsa=record.nsa,
            titles=record.titles,
            amount_cents=record.amount_cents,
            size_bytes=record.size_bytes,
            upload_id=upload_id or "",
            seconds=round(time.monotonic() - started, 3),
        )
        return replace(cut, record=record)

    def cut_all(
        self,
        *,
        upload_id: str | None = None,
        issued_before: dt.datetime | None = None,
        lock: Lock = Lock.WAIT,
        entries: bool = True,
    ) -> list[RemessaRecord]:
        """As many remessas as it takes for every waiting boleto (of the upload, issued before
        the moment, when given) and instruction."""
        made: list[RemessaRecord] = []
        while True:
            cut = self.cut_once(
                upload_id=upload_id, issued_before=issued_before, lock=lock, entries=entries
            )
            if cut is None:
                break
            if cut.record is not None:
                made.append(cut.record)
        return made

    def cut_now(self) -> list[RemessaRecord]:
        """CreateRemessas: everything waiting, whatever the schedule, in as many files as
        needed; per upload when remessas are cut per upload."""
        self._require_directory()
        if self.settings.per is CutPer.DAY:
            return self.cut_all()
        made: list[RemessaRecord] = []
        for upload_id in self.store.waiting_uploads(self.account, None):
            made.extend(self.cut_all(upload_id=upload_id))
        # Instructions belong to no upload: whatever the uploads' cuts left.
        made.extend(self.cut_all(entries=False))
        return made

    def details(self, now: dt.datetime) -> RemessaDetails:
        """The details of a remessa cut at `now`, empty, for the cut to take titles into."""
        # The NSA is the store's to choose, and details do not depend on it.
        return RemessaDetails(self._header(1, now))

    # -- files -------------------------------------------------------------------------

    def write_unwritten(self) -> int:
        """Writes every remessa committed but never written (a crash in between); returns how
        many. A file that cannot be produced is logged and left for the next call."""
        self._require_directory()
        written = 0
        for record in self.store.unwritten():
            try:
                self._write(record, self._details(record))
            except (OSError, RemessaUnavailable) as exc:
                log.error("remessa.write_failed", remessa_id=record.remessa_id, error=str(exc))
                continue
            written += 1
            log.info("remessa.written_late", remessa_id=record.remessa_id)
        return written

    def find(self, remessa_id: str) -> RemessaRecord | None:
        return self.store.find(remessa_id)

    def page(self, before: int | None, limit: int, beneficiary: str = "") -> list[RemessaRecord]:
        return self.store.page(before, limit, beneficiary)

    def ensure_file(self, record: RemessaRecord) -> tuple[RemessaRecord, Path]:
        """The remessa's file on disk, written again first when it is missing or was never
        written; returns the record as it stands then."""
        directory = self._require_directory()
        path = directory / record.file_name
        with contextlib.suppress(FileNotFoundError):
            if record.written_at is not None and path.stat().st_size == record.size_bytes:
                return record, path
        rewritten = self._write(record, self._details(record))
        log.info("remessa.rewritten", remessa_id=record.remessa_id)
        return rewritten, path

    def sweep_temporary(self) -> None:
        """Deletes what writes cut short by a crash left behind."""
        directory = self._require_directory()
        if not directory.is_dir():
            return
        limit = time.time() - STALE_TEMPORARY_SECONDS
        for path in directory.glob(f".*{_TEMPORARY_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    path.unlink()

    def _details(self, record: RemessaRecord) -> RemessaDetails:
        """A committed remessa's details again, from the store; InvalidRemessa when what the
        store holds would no longer make a valid file."""
        if record.account != self.account:
            raise RemessaUnavailable(
                "REMESSA_ACCOUNT_CHANGED",
                f"remessa/{record.remessa_id}",
                f"remessa {record.remessa_id} was cut for another beneficiary account than "
                "the one configured now",
            )
        return RemessaDetails.of(
            self._header(record.nsa, record.created_at), self.store.titles_of(record.remessa_no)
        )

    def _write(self, record: RemessaRecord, details: RemessaDetails) -> RemessaRecord:
        if details.titles != record.titles:
            # Only a hand-edited store gets here: the cut writes both in one transaction.
            raise RuntimeError(
                f"remessa {record.remessa_id} lists {record.titles} titles, "
                f"the store {details.titles}"
            )
        directory = self._require_directory()
        data = details.text(self._header(record.nsa, record.created_at)).encode("ascii")
        sha256 = hashlib.sha256(data).hexdigest()
        if record.sha256 is not None and record.sha256 != sha256:
            # The beneficiary's settings (name, convênio...) changed since the first writing.
            log.warning("remessa.rewrite_differs", remessa_id=record.remessa_id)
        write_atomically(directory, record.file_name, data)
        written_at = self.now()
        first = record.written_at is None
        if first:
            self.store.mark_written(record.remessa_no, len(data), sha256, written_at)
            FILES_WRITTEN.inc()
            TITLES_WRITTEN.inc(record.titles)
            return replace(
                record,
                size_bytes=len(data),
                sha256=sha256,
                written_at=written_at.astimezone(dt.UTC),
            )
        return replace(record, size_bytes=len(data), sha256=sha256)

    def _header(self, nsa: int, created_at: dt.datetime) -> RemessaHeader:
        return RemessaHeader(
            self.beneficiary.config,
            nsa,
            # The file header carries the bank's local date and time.
            created_at.astimezone(BRASILIA),
            agencia_dv=self.beneficiary.agencia_dv,
            variacao_carteira=self.beneficiary.variacao_carteira,
        )

    def _require_directory(self) -> Path:
        if self._directory is None:
            raise RemessaUnavailable(
                "REMESSAS_DISABLED", "REMESSA_DIR", "remessas are off: REMESSA_DIR is not set"
            )
        return self._directory


class RemessaDesk:
    """Every beneficiary's remessas behind one front, for the RPCs: a listing spans them
    all, a file is written by its own beneficiary's Remessas."""

    def __init__(self, desks: list[Remessas]) -> None:
        self.desks = desks

    @property
    def enabled(self) -> bool:
        return any(d.enabled for d in self.desks)

    def cut_now(self) -> list[RemessaRecord]:
        made: list[RemessaRecord] = []
        for desk in self.desks:
            made.extend(desk.cut_now())
        return made

    def find(self, remessa_id: str) -> RemessaRecord | None:
        return self.desks[0].find(remessa_id)

    def page(self, before: int | None, limit: int, beneficiary: str = "") -> list[RemessaRecord]:
        return self.desks[0].page(before, limit, beneficiary)

    def left_out(self) -> dict[str, int]:
        """Boletos no remessa will carry, by reason."""
        return self.desks[0].store.left_out()

    def ensure_file(self, record: RemessaRecord) -> tuple[RemessaRecord, Path]:
        for desk in self.desks:
            if desk.account == record.account:
                return desk.ensure_file(record)
        # Refused the way a single desk refuses an account it no longer has.
        return self.desks[0].ensure_file(record)


def write_atomically(directory: Path, name: str, data: bytes) -> None:
    """`name` in `directory` holds `data` whole, or is as it was: never a part of it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=_TEMPORARY_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    # The rename itself must survive a power loss too.
    directory_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_fd)
    finally:
        os.close(directory_fd)


class RemessaScheduler:
    """Cuts remessas on schedule: per day, once the day's cut time has passed, every boleto
    issued before it; per upload, an upload once it has gone quiet. Writes files a crash left
    unwritten on every tick. On PostgreSQL one replica cuts at a time; the others find the
    cut taken and look again on their next tick.

    A Worker for the service runtime: run() until stop(), then it finishes the file in hand.
    """

    def __init__(
        self,
        remessas: Remessas,
        *,
        now: Callable[[], dt.datetime] | None = None,
        tick: float | None = None,
    ) -> None:
        self._remessas = remessas
        self._settings = remessas.settings
        self._now = now or remessas.now
        self._tick = tick
        self._stop = Stopping()
        # The latest cut time every boleto issued before has been cut for (per day).
        self._done_through: dt.datetime | None = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        remessas = self._remessas
        await asyncio.to_thread(remessas.sweep_temporary)
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001 - a store or disk hiccup: try again later
                log.error("remessa.tick_failed", error=repr(exc))
            wait = (
                self._tick if self._tick is not None else tick_seconds(self._settings, self._now())
            )
            await self._stop.sleep(wait)

    async def tick(self) -> list[RemessaRecord]:
        """One look: files left unwritten, then whatever the schedule says is due."""
        remessas = self._remessas
        await asyncio.to_thread(remessas.write_unwritten)
        now = self._now()
        if self._settings.per is CutPer.DAY:
            moment = last_cut(now, self._settings.cut_at)
            if self._done_through is not None and self._done_through >= moment:
                return []
            made, finished = await self._cut(issued_before=moment)
            if finished:
                self._done_through = moment
            return made
        made = []
        quiet = quiet_since(now, self._settings.quiet_seconds)
        uploads = await asyncio.to_thread(remessas.store.waiting_uploads, remessas.account, quiet)
        for upload_id in uploads:
            cut, finished = await self._cut(upload_id=upload_id)
            made.extend(cut)
            if not finished:
                return made
        if await asyncio.to_thread(remessas.store.instructions_waiting, remessas.account):
            cut, _finished = await self._cut(entries=False)
            made.extend(cut)
        return made

    async def _cut(
        self,
        *,
        upload_id: str | None = None,
        issued_before: dt.datetime | None = None,
        entries: bool = True,
    ) -> tuple[list[RemessaRecord], bool]:
        """Cuts file after file; (the remessas made, whether nothing is left to cut)."""
        made: list[RemessaRecord] = []
        while not self._stop.is_set():
            try:
                cut = await asyncio.to_thread(
                    self._remessas.cut_once,
                    upload_id=upload_id,
                    issued_before=issued_before,
                    lock=Lock.TRY,
                    entries=entries,
                )
            except CutInProgress:
                return made, False
            if cut is None:
                return made, True
            if cut.record is not None:
                made.append(cut.record)
        return made, False
