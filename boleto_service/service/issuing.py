"""Issuing the boletos of a DebtsImported event, once per debt.

The computation is pure; the store is reached through the BoletoLedger protocol, which the
SQL store implements and tests can replace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from boleto_service.domain.beneficiaries import DEFAULT_KEY, UnknownBeneficiary, counter_name
from boleto_service.domain.boleto import (
    Boleto,
    LostRace,
    Payer,
    Refusal,
    discount_of,
    payer_address,
)
from boleto_service.domain.errors import BoletoDomainError
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.domain.local_time import BRASILIA
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_FAILED, SUBJECT_BOLETOS_ISSUED
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2

log = get_logger("boleto")

# Boletos are dated in Brazil's official time (UTC-3 all year since daylight saving ended in
# 2019), whatever the server's clock zone.


def today_in_brazil(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(BRASILIA).date()


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
    try:
        due = dt.date.fromisoformat(debt.due_date)
        numbers = issuer.issue(
            sequence if number is None else number, debt.amount_cents, due, today
        )
    except (BoletoDomainError, ValueError) as exc:
        return Refusal(debt.debt_id, upload_id, debt.line, str(exc))
    return Boleto(
        debt_id=debt.debt_id,
        upload_id=upload_id,
        line=debt.line,
        sequence=sequence,
        issue_date=today,
        beneficiary=beneficiary,
        discount=discount_of(debt.discount_cents, debt.discount_until),
        payer=Payer(
            debt.name,
            debt.government_id,
            debt.government_id_kind,
            debt.email,
            payer_address(debt.address, debt.district, debt.zip_code, debt.city, debt.state),
        ),
        numbers=numbers,
    )


def issued_event(boletos: Sequence[Boleto]) -> bytes:
    return events_pb2.BoletosIssued(
        boletos=[
            events_pb2.IssuedBoleto(
                debt_id=b.debt_id,
                upload_id=b.upload_id,
                payer_name=b.payer.name,
                email=b.payer.email,
                amount_cents=b.amount_cents,
                due_date=b.due_date.isoformat(),
                digitable_line=b.numbers.linha_digitavel_formatted,
                barcode=b.numbers.barcode,
                nosso_numero=b.numbers.nosso_numero,
                line=b.line,
                pix_payload=b.numbers.pix_payload,
            )
            for b in boletos
        ]
    ).SerializeToString()


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
        today: Callable[[], dt.date] = today_in_brazil,
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
        debts = {d.debt_id: d for d in event.debts}
        key, issuer = self._issuer_for(event.beneficiary)
        today = self._today()
        source = f"{event.upload_id}:{event.batch_seq}"

        def build(new_ids: list[str], first: int, number: int) -> Built:
            boletos: list[Boleto] = []
            refusals: list[Refusal] = []
            for offset, debt_id in enumerate(new_ids):
                debt, sequence = debts[debt_id], first + offset
                outcome = issue(
                    issuer, event.upload_id, debt, sequence, today, key, number + offset
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

        ids = list(debts)
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
