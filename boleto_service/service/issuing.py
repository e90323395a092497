"""Issuing the boletos of a DebtsImported event, once per debt.

The computation is pure; the store is reached through the BoletoLedger protocol, which the
SQL store implements and tests can replace.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from prometheus_client import Counter

from boleto_service.domain.beneficiaries import UnknownBeneficiary, counter_name
from boleto_service.domain.boleto import Boleto, LostRace, Payer, Refusal, payer_address
from boleto_service.domain.discounts import Discount, discount_holding, discount_of
from boleto_service.domain.errors import BoletoDomainError
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.domain.money import MAX_AMOUNT_CENTS
from boletos.platform import brasilia, tracing
from boletos.platform.beneficiaries_file import DEFAULT_KEY
from boletos.platform.ids import is_canonical_uuid
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_FAILED, SUBJECT_BOLETOS_ISSUED
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2

log = get_logger("boleto")

MALFORMED = Counter(
    "boletos_debts_malformed_total",
    "Debts refused because their event broke the DebtsImported contract, by field.",
    ["field"],
)


# What issue_batch hands back to be stored: boletos, refusals and the events announcing them.
Built = tuple[list[Boleto], list[Refusal], list[Event]]


class BoletoLedger(Protocol):
    def issue_batch(
        self,
        debt_ids: Sequence[str],
        build: Callable[[list[str], int, int], Built],
        check_first: bool = True,
        counter: str = "nosso_numero",
        counter_start: int = 1,
    ) -> tuple[int, int]:
        """Stores what `build(new_ids, first_sequence, first_number)` makes of the debts not
        handled yet, numbering nosso números from `counter`; returns (issued, refused).
        Raises LostRace, storing nothing, if some were."""
        ...


_DIGITS = re.compile(r"[0-9]{1,14}")
_CEP = re.compile(r"(?:[0-9]{8})?")
_UF = re.compile(r"(?:[A-Z]{2})?")
# Field lengths as the store's columns hold them: longer would fail the batch's insert on
# PostgreSQL, and the batch would come back again and again.
_TEXT_LIMITS = (("name", 200), ("address", 200), ("district", 100), ("city", 100))
_EMAIL_MAX = 254


def malformed(debt: events_pb2.ImportedDebt) -> tuple[str, str] | None:
    """(field, reason) of the first field that breaks the event's contract, or None.

    The event comes over NATS, which anyone able to publish there can write to: what ingest
    validated is checked again before it reaches the store, a PDF or an e-mail header. The
    reason names the field and the rule, never the value, which may be personal data."""
    if not is_canonical_uuid(debt.debt_id):
        return "debt_id", "debt_id is not a lowercase UUID"
    if not 0 < debt.amount_cents <= MAX_AMOUNT_CENTS:
        return "amount_cents", f"amount_cents must be 1 to {MAX_AMOUNT_CENTS}"
    if not _iso_day(debt.due_date):
        return "due_date", "due_date is not an ISO date"
    if _DIGITS.fullmatch(debt.government_id) is None:
        return "government_id", "government_id must be 1 to 14 digits"
    return _text_problem(debt) or _address_problem(debt) or _discount_problem(debt)


def _text_problem(debt: events_pb2.ImportedDebt) -> tuple[str, str] | None:
    email = debt.email
    if len(email) > _EMAIL_MAX or "@" not in email or _has_control(email) or " " in email:
        return "email", "email is not a single address without line breaks"
    for name, limit in _TEXT_LIMITS:
        value: str = getattr(debt, name)
        if len(value) > limit or _has_control(value):
            return name, f"{name} is longer than {limit} or holds control characters"
    if not debt.name.strip():
        return "name", "name is empty"
    return None


def _address_problem(debt: events_pb2.ImportedDebt) -> tuple[str, str] | None:
    if _CEP.fullmatch(debt.zip_code) is None:
        return "zip_code", "zip_code must be 8 digits or empty"
    if _UF.fullmatch(debt.state) is None:
        return "state", "state must be 2 capital letters or empty"
    return None


def _discount_problem(debt: events_pb2.ImportedDebt) -> tuple[str, str] | None:
    if not debt.discount_cents and not debt.discount_until:
        return None
    if not 0 < debt.discount_cents < debt.amount_cents or not _iso_day(debt.discount_until):
        return "discount", "discount must be below the amount, with an ISO date"
    return None


def _iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def issue(
    issuer: BoletoIssuer,
    upload_id: str,
    debt: events_pb2.ImportedDebt,
    sequence: int,
    today: dt.date,
    beneficiary: str = DEFAULT_KEY,
    number: int | None = None,
) -> Boleto | Refusal:
    """`number` feeds the nosso número (the beneficiary's counter); by default `sequence`."""
    problem = malformed(debt)
    if problem is not None:
        MALFORMED.labels(problem[0]).inc()
        return Refusal(debt.debt_id, upload_id, debt.line, problem[1])
    try:
        due = dt.date.fromisoformat(debt.due_date)
        numbers = issuer.issue(
            sequence if number is None else number, debt.amount_cents, due, today
        )
    except (BoletoDomainError, ValueError) as exc:
        return Refusal(debt.debt_id, upload_id, debt.line, str(exc))
    discount = _discount(issuer, debt, numbers.charges.principal_cents, due)
    offered = discount_holding(discount, today, numbers.due_date, numbers.amount_cents)
    if offered is not None:
        numbers = issuer.pix_for(numbers, offered.cents)
    return Boleto(
        debt_id=debt.debt_id,
        upload_id=upload_id,
        line=debt.line,
        sequence=sequence,
        issue_date=today,
        beneficiary=beneficiary,
        discount=discount,
        payer=Payer(
            debt.name,
            debt.government_id,
            debt.government_id_kind,
            debt.email,
            payer_address(debt.address, debt.district, debt.zip_code, debt.city, debt.state),
        ),
        numbers=numbers,
    )


def _discount(
    issuer: BoletoIssuer, debt: events_pb2.ImportedDebt, principal_cents: int, due: dt.date
) -> Discount | None:
    """The file's discount for the debt, else the beneficiary's, if it has one."""
    given = discount_of(debt.discount_cents, debt.discount_until)
    if given is None and issuer.discount is not None:
        return issuer.discount.for_debt(principal_cents, due)
    return given


def issued_event(boletos: Sequence[Boleto]) -> bytes:
    event = events_pb2.BoletosIssued()
    # Made in place: a message built apart is copied into the list, which took as long again.
    add = event.boletos.add
    for b in boletos:
        n = b.numbers
        add(
            debt_id=b.debt_id,
            upload_id=b.upload_id,
            payer_name=b.payer.name,
            email=b.payer.email,
            amount_cents=n.charges.total_cents,
            due_date=n.charges.due_date.isoformat(),
            digitable_line=n.linha_digitavel_formatted,
            barcode=n.barcode,
            nosso_numero=n.nosso_numero,
            line=b.line,
            pix_payload=n.pix_payload,
        )
    return event.SerializeToString()


def failed_event(refusals: Sequence[Refusal]) -> bytes:
    return events_pb2.BoletosFailed(
        failures=[
            events_pb2.FailedBoleto(debt_id=r.debt_id, upload_id=r.upload_id, reason=r.reason)
            for r in refusals
        ]
    ).SerializeToString()


class IssueBoletos:
    """The use case: one DebtsImported event in, its boletos and refusals stored with their
    events, each debt at most once however often the event arrives."""

    def __init__(
        self,
        ledger: BoletoLedger,
        issuers: Mapping[str, BoletoIssuer],
        # Boletos are dated in Brazil's official time, whatever the server's clock zone.
        today: Callable[[], dt.date] = brasilia.today,
    ) -> None:
        """`issuers`: one per beneficiary key; an event naming none (older ingest, or a
        deployment of one beneficiary) is issued by the only one."""
        self._ledger = ledger
        self._issuers = issuers
        self._today = today

    def _issuer_for(self, key: str) -> tuple[str, BoletoIssuer]:
        if not key and len(self._issuers) == 1:
            key = next(iter(self._issuers))
        issuer = self._issuers.get(key)
        if issuer is None:
            # A configuration that differs between ingest and this service: retried until
            # someone fixes it, never turned into refusals the debts cannot come back from.
            raise UnknownBeneficiary(
                f"no beneficiary {key!r} is configured here; known: " + ", ".join(self._issuers)
            )
        return key, issuer

    def __call__(self, event: events_pb2.DebtsImported) -> tuple[int, int]:
        """(issued, refused) by this call; debts handled before count in neither."""
        if not is_canonical_uuid(event.upload_id):
            return 0, _refuse_event(event)
        debts = {d.debt_id: d for d in event.debts if _keyed(event.upload_id, d)}
        unkeyed = len(event.debts) - len(debts)
        if not debts:
            return 0, unkeyed
        key, issuer = self._issuer_for(event.beneficiary)
        today = self._today()
        source = f"{event.upload_id}:{event.batch_seq}"

        def build(new_ids: list[str], first: int, number: int) -> Built:
            boletos: list[Boleto] = []
            refusals: list[Refusal] = []
            for offset, debt_id in enumerate(new_ids):
                debt, sequence = debts[debt_id], first + offset
                # Ids only on a span: whatever else the debt holds is personal data.
                with tracing.span(
                    "boleto.issue", attributes={"upload_id": event.upload_id, "debt_id": debt_id}
                ) as span:
                    outcome = issue(
                        issuer, event.upload_id, debt, sequence, today, key, number + offset
                    )
                    span.set_attribute(
                        "outcome", "issued" if isinstance(outcome, Boleto) else "refused"
                    )
                if isinstance(outcome, Boleto):
                    boletos.append(outcome)
                else:
                    refusals.append(outcome)
            events: list[Event] = []
            if boletos:
                events.append(
                    (SUBJECT_BOLETOS_ISSUED, f"boletos-issued:{source}", issued_event(boletos))
                )
            if refusals:
                for r in refusals:
                    log.error(
                        "boleto.not_issued",
                        upload_id=r.upload_id,
                        debt_id=r.debt_id,
                        reason=r.reason,
                    )
                events.append(
                    (SUBJECT_BOLETOS_FAILED, f"boletos-failed:{source}", failed_event(refusals))
                )
            return boletos, refusals, events

        issued, refused = self._store(list(debts), build, key, issuer)
        return issued, refused + unkeyed

    def _store(
        self,
        ids: list[str],
        build: Callable[[list[str], int, int], Built],
        key: str,
        issuer: BoletoIssuer,
    ) -> tuple[int, int]:
        counter, start = counter_name(key), issuer.first_number
        try:
            # Almost every message is new: skip the lookup and let the unique keys object.
            return self._ledger.issue_batch(ids, build, False, counter, start)
        except LostRace:
            pass
        for _attempt in range(3):
            try:
                return self._ledger.issue_batch(ids, build, True, counter, start)
            except LostRace:
                continue  # another replica is on the same message; skip what it stored
        return self._ledger.issue_batch(ids, build, True, counter, start)


def _refuse_event(event: events_pb2.DebtsImported) -> int:
    """Refuses every debt of an event whose upload id is no upload's: it would go into the
    store's rows and the outbox's message ids. Logged by batch, as the id is not one."""
    MALFORMED.labels("upload_id").inc(len(event.debts))
    log.error(
        "boleto.event_refused",
        batch=event.batch_seq,
        debts=len(event.debts),
        reason="upload_id is not a lowercase UUID",
    )
    return len(event.debts)


def _keyed(upload_id: str, debt: events_pb2.ImportedDebt) -> bool:
    """Whether the debt's id can key a refusal. One that cannot is refused here, by its
    line: no store row, no BoletosFailed, since nothing downstream could match it."""
    if is_canonical_uuid(debt.debt_id):
        return True
    MALFORMED.labels("debt_id").inc()
    log.error(
        "boleto.not_issued",
        upload_id=upload_id,
        line=debt.line,
        reason="debt_id is not a lowercase UUID",
    )
    return False
