"""Processing a bank's CNAB 240 retorno: every occurrence recorded once, every status change
announced once, every line the service cannot use reported, and a file that is not a whole
retorno of this service's bank refused before anything of it is applied.

The file is read from disk twice. The first pass only reads it: a file with no header, of
another kind (a remessa), cut short, with trailers whose counts disagree with it, or of a
bank with no boleto here is refused whole, and neither applied nor recorded, so the same file
corrected can be sent again. The second pass applies it in batches, each its own transaction
with its events, so a file of a million titles needs neither its text nor its occurrences in
memory. The file's own record (by the SHA-256 of its bytes) is written last: a file cut short
by a crash is sent again and finishes, its applied batches now counted as repeated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from google.protobuf.message import Message
from prometheus_client import Counter

from boleto_service.domain.bank_status import (
    BatchPlan,
    Change,
    Finished,
    describe,
    occurrence_key,
    status_reason,
)
from boleto_service.domain.boleto import BankStatus
from boleto_service.domain.cnab240.banks import CNAB_BANKS
from boleto_service.domain.cnab240.fields import RECORD_LENGTH, CnabFieldError
from boleto_service.domain.cnab240.retorno import (
    FileError,
    Occurrence,
    Outcome,
    RetornoReader,
    Unmatched,
)
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import (
    SUBJECT_BOLETOS_PAID,
    SUBJECT_BOLETOS_REGISTERED,
    SUBJECT_BOLETOS_REJECTED,
    SUBJECT_BOLETOS_WRITTEN_OFF,
)
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2

log = get_logger("boleto")

BATCH_SIZE = 5_000
# Boletos per event message: a batch's rejections with long reasons stay far below NATS's
# 1 MB message limit.
EVENT_PART = 1_000
# Problems listed in a summary; past this many the rest are counted by kind in one more
# entry, so a file of garbage cannot make an answer too large to send.
MAX_LISTED_PROBLEMS = 1_000
# Line numbers a log line names for each kind of problem: enough to open the file at the
# first ones, while a file of a million unknown titles still writes one line per kind.
LOGGED_LINES = 10
# File errors a refusal names; past these it counts them.
NAMED_FILE_ERRORS = 3
# File errors the first pass keeps to choose from: a file of garbage has one per line.
KEPT_FILE_ERRORS = 100

# Why a whole file is refused (ErrorInfo.reason when the RPC answers).
NOT_CNAB240 = "RETORNO_NOT_CNAB240"  # empty, junk, not 240-character records
NOT_A_RETORNO = "RETORNO_NOT_A_RETORNO"  # no file header, a remessa, not a cobrança retorno
INCOMPLETE = "RETORNO_INCOMPLETE"  # cut short: no file trailer, a lot without its trailer
MALFORMED = "RETORNO_MALFORMED"  # records out of place: a second header, after the trailer
COUNTS_DISAGREE = "RETORNO_COUNTS_DISAGREE"  # the trailers count other lots or records
BANK_NOT_SERVED = "RETORNO_BANK_NOT_SERVED"  # a bank this service has no boleto of
# The refusal a file with several errors gets: what a person fixes first.
_REFUSAL_ORDER = (NOT_A_RETORNO, INCOMPLETE, MALFORMED, COUNTS_DISAGREE)

OCCURRENCES = Counter(
    "boletos_retorno_occurrences_total",
    "Retorno occurrences of this service's boletos, by what they did: registered, rejected, "
    "paid, written_off (status changes), other (recorded, no change), repeated (seen before).",
    ["outcome"],
)
PAID_CENTS = Counter(
    "boletos_retorno_paid_cents_total", "Centavos paid, as retornos reported the payments."
)
AMOUNT_MISMATCHES = Counter(
    "boletos_retorno_amount_mismatches_total",
    "Payments of an amount other than the amount charged.",
)
PROBLEMS = Counter(
    "boletos_retorno_problems_total",
    "Retorno lines a person must look at: unknown_boleto, unreadable (the parser could not "
    "read the line), paid_again (a second payment), nothing_paid (a liquidation of no "
    "amount), repeated_in_file (an occurrence twice in one file), file (counts or records "
    "wrong).",
    ["kind"],
)
FILES = Counter(
    "boletos_retornos_total",
    "Retorno files received: processed, already_processed (the same bytes again), or refused "
    "(not a whole retorno of this service's bank: nothing applied).",
    ["result"],
)

_KINDS = {
    BankStatus.REGISTERED: ("registered", SUBJECT_BOLETOS_REGISTERED, events_pb2.BoletosRegistered),
    BankStatus.REJECTED: ("rejected", SUBJECT_BOLETOS_REJECTED, events_pb2.BoletosRejected),
    BankStatus.WRITTEN_OFF: (
        "written_off",
        SUBJECT_BOLETOS_WRITTEN_OFF,
        events_pb2.BoletosWrittenOff,
    ),
}


class RetornoRefused(Exception):
    """The file as a whole is not one to apply; nothing of it was applied or recorded."""

    def __init__(self, reason: str, message: str, line: int = 0, bank_code: str = "") -> None:
        super().__init__(message)
        self.reason = reason  # one of the codes above
        self.message = message  # names positions, codes and counts, never a payer
        self.line = line  # the first line at fault; 0 when it is about the whole file
        self.bank_code = bank_code


@dataclass(frozen=True)
class Problem:
    line: int  # 0: about the whole file
    reason: str


@dataclass
class Summary:
    """What a retorno changed; stored as JSON with the file and answered again for a repeat."""

    retorno_id: str
    file_name: str
    already_processed: bool = False
    bank_code: str = ""
    occurrences: int = 0
    registered: int = 0
    rejected: int = 0
    paid: int = 0
    paid_cents: int = 0
    written_off: int = 0
    other: int = 0
    amount_mismatches: int = 0
    repeated_occurrences: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_not_listed: int = 0
    # The problems past the listed ones, by kind (unknown_boleto, unreadable, ...).
    not_listed_by_kind: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Summary:
        data = json.loads(text)
        data["problems"] = [Problem(**p) for p in data.get("problems", [])]
        return cls(**data)

    def listed_problems(self) -> list[Problem]:
        """The problems as answered: every one, or the first ones and a count of the rest."""
        if not self.problems_not_listed:
            return list(self.problems)
        kinds = ", ".join(
            f"{kind} {count:,}" for kind, count in sorted(self.not_listed_by_kind.items())
        )
        more = Problem(
            0,
            f"{self.problems_not_listed:,} more problems not listed here"
            + (f" ({kinds})" if kinds else ""),
        )
        return [*self.problems, more]


class RetornoLedger(Protocol):
    def summary(self, retorno_id: str) -> str | None: ...

    def serves_bank(self, bank_code: str) -> bool: ...

    def apply_batch(
        self,
        batch: Sequence[Occurrence],
        retorno_id: str,
        at: dt.datetime,
        events: Callable[[BatchPlan], list[Event]],
    ) -> BatchPlan: ...

    def finish(
        self,
        retorno_id: str,
        file_name: str,
        bank_code: str,
        nsa: int | None,
        summary: str,
        at: dt.datetime,
    ) -> Finished: ...


def status_events(retorno_id: str, batch_no: int, changes: Sequence[Change]) -> list[Event]:
    """The events of one batch's changes: a message per kind (in parts of EVENT_PART), each
    with an id that names the file, the batch and the kind, so the relay publishing one twice
    is a duplicate JetStream drops."""
    events: list[Event] = []
    by_status: dict[BankStatus, list[Change]] = {}
    for change in changes:
        by_status.setdefault(change.status, []).append(change)
    for status, group in sorted(by_status.items()):
        for part, start in enumerate(range(0, len(group), EVENT_PART)):
            chunk = group[start : start + EVENT_PART]
            if status is BankStatus.PAID:
                kind, subject = "paid", SUBJECT_BOLETOS_PAID
                payload: Message = _paid(chunk)
            else:
                kind, subject, message = _KINDS[status]
                payload = message()
                # Added in place: a message built and then copied into the list costs twice.
                add = payload.boletos.add  # type: ignore[attr-defined]
                for c in chunk:
                    add(
                        debt_id=c.boleto.debt_id,
                        upload_id=c.boleto.upload_id,
                        reason=status_reason(c.occurrence),
                    )
            msg_id = f"retorno:{retorno_id}:{batch_no}:{kind}:{part}"
            events.append((subject, msg_id, payload.SerializeToString()))
    return events


def _paid(chunk: Sequence[Change]) -> events_pb2.BoletosPaid:
    paid = events_pb2.BoletosPaid()
    add = paid.boletos.add
    for c in chunk:
        state = c.boleto.state
        add(
            debt_id=c.boleto.debt_id,
            upload_id=c.boleto.upload_id,
            amount_cents=c.boleto.amount_cents,
            paid_cents=state.paid_cents or 0,
            fee_cents=state.fee_cents or 0,
            paid_on=state.paid_on.isoformat() if state.paid_on else "",
            amount_differs=c.amount_differs,
        )
    return paid


# --- the first pass: is this a whole retorno? ------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """What the first pass learnt of a file it found whole."""

    bank_code: str
    nsa: int | None
    # The (nosso número, code) more than one segment T of the file may carry: the second
    # pass remembers those occurrences alone, and compares them.
    repeated: Twice


def nothing_paid(o: Occurrence) -> bool:
    """A liquidation that reports no money: a bank's mistake, never a payment."""
    return o.outcome is Outcome.PAID and o.paid_cents <= 0


def check_retorno(path: Path) -> Checked:
    """Reads the file at `path` once, applying nothing; raises RetornoRefused when it is not a
    whole CNAB 240 retorno. Lines it cannot read are left for the second pass to report."""
    _check_first_record(path)
    reader = RetornoReader()
    errors: list[FileError] = []
    error_count = 0
    twice = Twice()
    with _lines(path) as lines:
        for error in reader.file_errors(_noting_repeats(lines, twice)):
            error_count += 1
            if len(errors) < KEPT_FILE_ERRORS:
                errors.append(error)
    if reader.bank_code is None:
        # Not once the first record passed the check above, which is the reader's own; here
        # so that a change to either cannot let a file of no bank through.
        raise RetornoRefused(NOT_CNAB240, "no record of the file is a CNAB 240 record")
    if errors:
        raise _refusal(errors, error_count, reader.bank_code)
    return Checked(reader.bank_code, reader.nsa, twice)


def _noting_repeats(lines: Iterable[str], twice: Twice) -> Iterator[str]:
    """The file's lines as they are, adding each segment T's (nosso número, code) to `twice`
    as the reader would read them, so the second pass's hash is the same."""
    banks = CNAB_BANKS
    for line in lines:
        if line[13:14] != "T" or line[7:8] != "3":
            yield line
            continue
        record = line.rstrip("\r\n")
        bank = banks.get(record[:3])
        if bank is not None and len(record) == RECORD_LENGTH and record.isascii():
            try:
                twice.add((bank.retorno_nosso_numero(record), record[15:17]))
            except CnabFieldError:
                pass  # the second pass reports the line
        yield line


def _check_first_record(path: Path) -> None:
    """Junk is named for what it is, before the reader reports each of its lines."""
    with _lines(path) as lines:
        numbered = ((n, line.rstrip("\r\n")) for n, line in enumerate(lines, start=1))
        first = next(((n, line) for n, line in numbered if line.strip(" \x1a")), None)
    if first is None:
        raise RetornoRefused(NOT_CNAB240, "the file has no records, only blank lines")
    number, record = first
    if not record.isascii():
        raise RetornoRefused(
            NOT_CNAB240, f"line {number}: not a CNAB 240 record (non-ASCII characters)", number
        )
    if len(record) != RECORD_LENGTH:
        raise RetornoRefused(
            NOT_CNAB240,
            f"line {number}: not a CNAB 240 record ({len(record)} characters, not {RECORD_LENGTH})",
            number,
        )
    bank = record[:3]
    if not bank.isdigit():
        raise RetornoRefused(
            NOT_CNAB240, f"line {number}: not a CNAB 240 record (no bank code)", number
        )
    if bank not in CNAB_BANKS:
        raise RetornoRefused(
            BANK_NOT_SERVED,
            f"bank {bank} wrote the file; this service has no boleto of that bank",
            0,
            bank,
        )


def _refusal(errors: Sequence[FileError], count: int, bank_code: str) -> RetornoRefused:
    by_reason: dict[str, list[FileError]] = {}
    for error in errors:
        by_reason.setdefault(_reason_of(error), []).append(error)
    reason = next(r for r in _REFUSAL_ORDER if r in by_reason)
    # The same error on many lines (every record after a second trailer) is said once.
    alike: dict[str, list[FileError]] = {}
    for error in by_reason[reason]:
        alike.setdefault(error.text, []).append(error)
    named = list(alike.values())[:NAMED_FILE_ERRORS]
    said = []
    for group in named:
        first = group[0]
        where = f"line {first.line_number}: " if first.line_number else ""
        times = f" (and {len(group) - 1} more line(s))" if len(group) > 1 else ""
        said.append(_masked(f"{where}{first.text}{times}"))
    text = "; ".join(said)
    if reason == NOT_A_RETORNO and any(_is_remessa(g[0]) for g in named):
        text += " (a remessa, the file sent to the bank, not its answer)"
    elif reason == INCOMPLETE:
        text += " (the file ends before its trailer: cut short)"
    rest = count - sum(len(g) for g in named)
    if rest > 0:
        text += f"; {rest} more error(s) in the file's structure"
    return RetornoRefused(reason, text, named[0][0].line_number or 0, bank_code)


def _reason_of(error: FileError) -> str:
    """The refusal a reader's file error stands for. The reader says it in words; these are
    the words its file errors use, and a new one is refused as malformed all the same."""
    text = error.text
    if "not a retorno" in text or "expected retorno" in text or text.startswith("no file header"):
        return NOT_A_RETORNO
    if text.startswith("no file trailer") or "has no trailer" in text:
        return INCOMPLETE
    if "trailer counts" in text:
        return COUNTS_DISAGREE
    return MALFORMED


def _is_remessa(error: FileError) -> bool:
    return "header code '1'" in error.text


class Twice:
    """Which values were seen more than once, in two bitmaps of a fixed size instead of a set
    of every value: 8 MB for a file of any size. A value that shares a bit with another may
    be taken for seen twice (one in seventy, of the half million titles a file can count);
    none seen twice is ever missed."""

    BITS = 1 << 25

    def __init__(self) -> None:
        self._once = bytearray(self.BITS // 8)
        self._twice = bytearray(self.BITS // 8)
        self.any = False

    def add(self, value: Hashable) -> None:
        at = hash(value) & (self.BITS - 1)
        byte, bit = at >> 3, 1 << (at & 7)
        if self._once[byte] & bit:
            self._twice[byte] |= bit
            self.any = True
        else:
            self._once[byte] |= bit

    def __contains__(self, value: Hashable) -> bool:
        if not self.any:
            return False
        at = hash(value) & (self.BITS - 1)
        return bool(self._twice[at >> 3] & (1 << (at & 7)))


def _lines(path: Path) -> TextIO:
    # Latin-1 maps every byte to a character: a stray accent is reported as a line with
    # non-ASCII characters instead of failing the whole file.
    return path.open(encoding="latin-1")


# --- the second pass: applying it ------------------------------------------------------------


@dataclass
class _Tally:
    count: int = 0
    lines: list[int] = field(default_factory=list)
    first_reason: str = ""


@dataclass
class _Run:
    """One file's processing: its summary, and what the log says of its problems at the end."""

    summary: Summary
    repeated: Twice
    tallies: dict[str, _Tally] = field(default_factory=dict)
    # The first occurrence of each key among the repeated, to name it when the key comes
    # again.
    firsts: dict[str, Occurrence] = field(default_factory=dict)
    batches: int = 0


class ProcessRetornos:
    """The use case: a retorno file on disk in, its summary out; the same file twice changes
    nothing the second time, the same occurrence in two files is applied once, and a file
    that is not a whole retorno of this service's bank is refused without a change."""

    def __init__(
        self,
        ledger: RetornoLedger,
        batch_size: int = BATCH_SIZE,
        on_commit: Callable[[], None] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._ledger = ledger
        self._batch_size = batch_size
        self._on_commit = on_commit
        self._clock = clock

    def previous(self, retorno_id: str) -> Summary | None:
        """The summary of the file's first processing, marked as a repeat; None if new."""
        stored = self._ledger.summary(retorno_id)
        if stored is None:
            return None
        FILES.labels("already_processed").inc()
        summary = Summary.from_json(stored)
        summary.already_processed = True
        return summary

    def check(self, path: Path, retorno_id: str) -> Checked:
        """The first pass: raises RetornoRefused, having changed nothing, when the file is
        not a whole retorno of a bank this service has boletos of."""
        try:
            checked = check_retorno(path)
            if not self._ledger.serves_bank(checked.bank_code):
                raise RetornoRefused(
                    BANK_NOT_SERVED,
                    f"bank {checked.bank_code} wrote the file; this service has no boleto of "
                    "that bank",
                    0,
                    checked.bank_code,
                )
        except RetornoRefused as refused:
            FILES.labels("refused").inc()
            log.warning(
                "retorno.refused",
                retorno_id=retorno_id,
                reason=refused.reason,
                line=refused.line,
                bank_code=refused.bank_code,
                detail=refused.message,
            )
            raise
        return checked

    def process(self, path: Path, retorno_id: str, file_name: str) -> Summary:
        """Processes the retorno whose bytes are in `path` and whose SHA-256 is `retorno_id`;
        raises RetornoRefused when the file is not one to apply."""
        earlier = self.previous(retorno_id)
        if earlier is not None:
            log.info("retorno.already_processed", retorno_id=retorno_id)
            return earlier
        checked = self.check(path, retorno_id)
        run = _Run(Summary(retorno_id, file_name, bank_code=checked.bank_code), checked.repeated)
        with _lines(path) as lines:
            for batch in self._batches(run, lines):
                self._apply(run, batch)
        summary = run.summary
        self._log_problems(run)
        finished = self._ledger.finish(
            retorno_id,
            file_name,
            summary.bank_code,
            checked.nsa,
            summary.to_json(),
            self._clock(),
        )
        if not finished.by_this_call:
            # Another call on the same bytes finished first; its summary is the file's.
            summary = Summary.from_json(finished.summary)
            summary.already_processed = True
            FILES.labels("already_processed").inc()
            return summary
        FILES.labels("processed").inc()
        log.info(
            "retorno.processed",
            retorno_id=retorno_id,
            bank_code=summary.bank_code,
            nsa=checked.nsa,
            occurrences=summary.occurrences,
            registered=summary.registered,
            rejected=summary.rejected,
            paid=summary.paid,
            paid_cents=summary.paid_cents,
            written_off=summary.written_off,
            other=summary.other,
            repeated=summary.repeated_occurrences,
            amount_mismatches=summary.amount_mismatches,
            problems=len(summary.problems) + summary.problems_not_listed,
            batches=run.batches,
        )
        return summary

    def _batches(self, run: _Run, lines: Iterable[str]) -> Iterator[list[Occurrence]]:
        """The occurrences to apply, in file order, in batches; every other line is a
        problem."""
        summary = run.summary
        repeats = run.repeated
        size = self._batch_size
        batch: list[Occurrence] = []
        for item in RetornoReader().read(lines):
            if isinstance(item, Occurrence):
                summary.occurrences += 1
                if nothing_paid(item):
                    self._problem(
                        run,
                        "nothing_paid",
                        item.line_number,
                        f"a liquidation ({describe(item)}) of nosso número "
                        f"{item.nosso_numero} paying {item.paid_cents} centavos: not a "
                        "payment, not applied",
                    )
                    continue
                if repeats.any:  # most files repeat nothing
                    self._note_repeat(run, item)
                batch.append(item)
                if len(batch) >= size:
                    yield batch
                    batch = []
            elif isinstance(item, Unmatched):
                self._problem(run, "unreadable", item.line_number, _masked(item.reason))
            else:
                # The first pass refuses every file error; here only if the file changed on
                # disk between the passes, and then it is reported, not dropped.
                self._problem(run, "file", item.line_number or 0, _masked(item.text))
        if batch:
            yield batch

    def _note_repeat(self, run: _Run, o: Occurrence) -> None:
        if (o.nosso_numero, o.code) not in run.repeated:
            return
        first = run.firsts.setdefault(occurrence_key(o), o)
        if first is o:
            return
        # Applied once either way: the store knows an occurrence by its key.
        line = first.line_number
        if first._replace(line_number=0) == o._replace(line_number=0):
            said = f"repeats line {line} of this file: applied once"
        else:
            said = (
                f"has the date and amount paid of line {line} of this file, other amounts or "
                f"dates not: only line {line} applied"
            )
        self._problem(
            run,
            "repeated_in_file",
            o.line_number,
            f"{describe(o)} of nosso número {o.nosso_numero} {said}",
        )

    def _apply(self, run: _Run, batch: list[Occurrence]) -> None:
        run.batches += 1
        summary = run.summary
        rid, batch_no = summary.retorno_id, run.batches
        plan = self._ledger.apply_batch(
            batch, rid, self._clock(), lambda p: status_events(rid, batch_no, p.changes)
        )
        if self._on_commit is not None and plan.changes:
            self._on_commit()
        counted: dict[str, int] = {}
        for change in plan.changes:
            status = change.status
            if status is BankStatus.PAID:
                summary.paid += 1
                paid = change.boleto.state.paid_cents or 0
                summary.paid_cents += paid
                PAID_CENTS.inc(paid)
                if change.amount_differs:
                    summary.amount_mismatches += 1
                    AMOUNT_MISMATCHES.inc()
                    log.warning(
                        "retorno.amount_differs",
                        retorno_id=rid,
                        line=change.occurrence.line_number,
                        debt_id=change.boleto.debt_id,
                        upload_id=change.boleto.upload_id,
                        amount_cents=change.boleto.amount_cents,
                        paid_cents=paid,
                    )
            elif status is BankStatus.REGISTERED:
                summary.registered += 1
            elif status is BankStatus.REJECTED:
                summary.rejected += 1
            else:
                summary.written_off += 1
            name = status.name.lower()
            counted[name] = counted.get(name, 0) + 1
        summary.other += len(plan.unchanged)
        summary.repeated_occurrences += plan.repeated
        counted["other"] = len(plan.unchanged)
        counted["repeated"] = plan.repeated
        for outcome, count in counted.items():
            if count:
                OCCURRENCES.labels(outcome).inc(count)
        for tracked, o in plan.unchanged:
            state = tracked.state
            if state.status is BankStatus.PAID and o.paid_cents:
                self._problem(
                    run,
                    "paid_again",
                    o.line_number,
                    f"a payment of {o.paid_cents} centavos ({describe(o)}) for nosso número "
                    f"{o.nosso_numero}, already paid {state.paid_cents} centavos on "
                    f"{state.paid_on}: recorded, status unchanged",
                )
        for o in plan.unknown:
            self._problem(
                run,
                "unknown_boleto",
                o.line_number,
                f"nosso número {o.nosso_numero} of bank {o.bank_code} names no boleto of this "
                f"service ({describe(o)})",
            )

    def _problem(self, run: _Run, kind: str, line: int, reason: str) -> None:
        PROBLEMS.labels(kind).inc()
        tally = run.tallies.setdefault(kind, _Tally(first_reason=reason))
        tally.count += 1
        if len(tally.lines) < LOGGED_LINES:
            tally.lines.append(line)
        summary = run.summary
        if len(summary.problems) < MAX_LISTED_PROBLEMS:
            summary.problems.append(Problem(line, reason))
        else:
            summary.problems_not_listed += 1
            by_kind = summary.not_listed_by_kind
            by_kind[kind] = by_kind.get(kind, 0) + 1

    def _log_problems(self, run: _Run) -> None:
        """A line per kind of problem, not one per line: a file of a million lines of another
        account's titles would otherwise bury the log. The summary lists the lines."""
        for kind, tally in run.tallies.items():
            # Reasons name positions, codes, amounts and nosso números, never a payer.
            log.warning(
                "retorno.line_unusable",
                retorno_id=run.summary.retorno_id,
                kind=kind,
                count=tally.count,
                first_lines=tally.lines,
                first_reason=tally.first_reason,
            )


_QUOTED = re.compile(r"'[^']*'")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _masked(reason: str) -> str:
    """A parser's reason with the words in the values it quotes masked: a record shifted by a
    few positions puts a payer's name where a number was expected, and the reason would
    quote it."""
    return _QUOTED.sub(lambda m: _WORD.sub(lambda w: "*" * len(w.group()), m.group()), reason)
