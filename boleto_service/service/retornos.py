"""Processing a bank's CNAB 240 retorno: every occurrence recorded once, every status change
announced once, every line the service cannot use reported.

The file is read from disk line by line and applied in batches, each its own transaction with
its events, so a file of a million titles needs neither its text nor its occurrences in
memory. The file's own record (by the SHA-256 of its bytes) is written last: a file cut short
by a crash is sent again and finishes, its applied batches now counted as repeated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from google.protobuf.message import Message
from prometheus_client import Counter

from boleto_service.domain.bank_status import BatchPlan, Change, describe, status_reason
from boleto_service.domain.boleto import BankStatus
from boleto_service.domain.cnab240.retorno import (
    FileError,
    Occurrence,
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
# Problems listed in a summary; past this many the rest are counted in one more entry (each
# is still logged), so a file of garbage cannot make an answer too large to send.
MAX_LISTED_PROBLEMS = 1_000

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
    "read the line), file (counts or records wrong), paid_again (a second payment).",
    ["kind"],
)
FILES = Counter(
    "boletos_retornos_total",
    "Retorno files received: processed, or already_processed (the same bytes again).",
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
        more = Problem(
            0,
            f"{self.problems_not_listed} more problems not listed here; "
            "each is in the boleto service's log (retorno.line_unusable)",
        )
        return [*self.problems, more]


class RetornoLedger(Protocol):
    def summary(self, retorno_id: str) -> str | None: ...

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
    ) -> str | None: ...


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
                payload: Message = events_pb2.BoletosPaid(boletos=[_paid(c) for c in chunk])
            else:
                kind, subject, message = _KINDS[status]
                payload = message(
                    boletos=[
                        events_pb2.BoletoStatusChange(
                            debt_id=c.boleto.debt_id,
                            upload_id=c.boleto.upload_id,
                            reason=status_reason(c.occurrence),
                        )
                        for c in chunk
                    ]
                )
            msg_id = f"retorno:{retorno_id}:{batch_no}:{kind}:{part}"
            events.append((subject, msg_id, payload.SerializeToString()))
    return events


def _paid(c: Change) -> events_pb2.PaidBoleto:
    state = c.boleto.state
    return events_pb2.PaidBoleto(
        debt_id=c.boleto.debt_id,
        upload_id=c.boleto.upload_id,
        amount_cents=c.boleto.amount_cents,
        paid_cents=state.paid_cents or 0,
        fee_cents=state.fee_cents or 0,
        paid_on=state.paid_on.isoformat() if state.paid_on else "",
        amount_differs=c.amount_differs,
    )


class ProcessRetornos:
    """The use case: a retorno file on disk in, its summary out; the same file twice changes
    nothing the second time, the same occurrence in two files is applied once."""

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

    def process(self, path: Path, retorno_id: str, file_name: str) -> Summary:
        """Processes the retorno whose bytes are in `path` and whose SHA-256 is `retorno_id`."""
        earlier = self.previous(retorno_id)
        if earlier is not None:
            log.info("retorno.already_processed", retorno_id=retorno_id)
            return earlier
        summary = Summary(retorno_id, file_name)
        reader = RetornoReader()
        batch: list[Occurrence] = []
        batches = 0
        # Latin-1 maps every byte to a character: a stray accent is reported as a line with
        # non-ASCII characters instead of failing the whole file.
        with path.open(encoding="latin-1") as lines:
            for item in reader.read(lines):
                if isinstance(item, Occurrence):
                    summary.occurrences += 1
                    batch.append(item)
                    if len(batch) >= self._batch_size:
                        batches += 1
                        self._apply(summary, batch, batches)
                        batch = []
                elif isinstance(item, Unmatched):
                    reason = _masked(item.reason)
                    self._problem(summary, "unreadable", item.line_number, reason)
                else:
                    self._file_error(summary, item)
        if batch:
            batches += 1
            self._apply(summary, batch, batches)
        summary.bank_code = reader.bank_code or ""
        stored = self._ledger.finish(
            retorno_id,
            file_name,
            summary.bank_code,
            reader.nsa,
            summary.to_json(),
            self._clock(),
        )
        if stored is not None:
            # Another call on the same bytes finished first; its summary is the file's.
            summary = Summary.from_json(stored)
            summary.already_processed = True
            FILES.labels("already_processed").inc()
            return summary
        FILES.labels("processed").inc()
        log.info(
            "retorno.processed",
            retorno_id=retorno_id,
            bank_code=summary.bank_code,
            nsa=reader.nsa,
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
            batches=batches,
        )
        return summary

    def _apply(self, summary: Summary, batch: list[Occurrence], batch_no: int) -> None:
        rid = summary.retorno_id
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
                    summary,
                    "paid_again",
                    o.line_number,
                    f"a payment of {o.paid_cents} centavos ({describe(o)}) for nosso número "
                    f"{o.nosso_numero}, already paid {state.paid_cents} centavos on "
                    f"{state.paid_on}: recorded, status unchanged",
                )
        for o in plan.unknown:
            self._problem(
                summary,
                "unknown_boleto",
                o.line_number,
                f"nosso número {o.nosso_numero} of bank {o.bank_code} names no boleto of this "
                f"service ({describe(o)})",
            )

    def _file_error(self, summary: Summary, error: FileError) -> None:
        self._problem(summary, "file", error.line_number or 0, _masked(error.text))

    def _problem(self, summary: Summary, kind: str, line: int, reason: str) -> None:
        PROBLEMS.labels(kind).inc()
        # Reasons name positions, codes, amounts and nosso números, never a payer.
        log.warning(
            "retorno.line_unusable",
            retorno_id=summary.retorno_id,
            kind=kind,
            line=line,
            reason=reason,
        )
        if len(summary.problems) < MAX_LISTED_PROBLEMS:
            summary.problems.append(Problem(line, reason))
        else:
            summary.problems_not_listed += 1


_QUOTED = re.compile(r"'[^']*'")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _masked(reason: str) -> str:
    """A parser's reason with the words in the values it quotes masked: a record shifted by a
    few positions puts a payer's name where a number was expected, and the reason would
    quote it."""
    return _QUOTED.sub(lambda m: _WORD.sub(lambda w: "*" * len(w.group()), m.group()), reason)
