"""How the occurrences of a bank's retorno move boletos through their life at the bank.

ISSUED -> REGISTERED (entry confirmed); ISSUED or REGISTERED -> REJECTED (entry refused);
ISSUED or REGISTERED -> WRITTEN_OFF (baixa); any status but PAID -> PAID. PAID is final: money
received is never undone by a later line. An occurrence that moves nothing is still recorded,
and the same occurrence twice (the same file again, a bank resending a day) is applied once,
recognised by its key. Pure: the store hands in the boletos' states and the keys it already
has, and stores what `plan_batch` returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from typing import NamedTuple

from .boleto import BankState, BankStatus
from .cnab240.retorno import Occurrence, Outcome

_TARGET = {
    Outcome.REGISTERED: BankStatus.REGISTERED,
    Outcome.REJECTED: BankStatus.REJECTED,
    Outcome.PAID: BankStatus.PAID,
    Outcome.WRITTEN_OFF: BankStatus.WRITTEN_OFF,
}
_FROM = {
    BankStatus.REGISTERED: frozenset({BankStatus.ISSUED}),
    BankStatus.REJECTED: frozenset({BankStatus.ISSUED, BankStatus.REGISTERED}),
    BankStatus.WRITTEN_OFF: frozenset({BankStatus.ISSUED, BankStatus.REGISTERED}),
    # A payment is money received whatever came before it: BB reports one after a baixa (17),
    # and a rejected title can still be paid at a counter that did not check.
    BankStatus.PAID: frozenset(
        {BankStatus.ISSUED, BankStatus.REGISTERED, BankStatus.REJECTED, BankStatus.WRITTEN_OFF}
    ),
}


def transition(current: BankStatus, outcome: Outcome) -> BankStatus | None:
    """The status an occurrence moves a boleto to, or None when it moves nothing."""
    target = _TARGET.get(outcome)
    if target is None or current not in _FROM[target]:
        return None
    return target


def occurrence_key(o: Occurrence) -> str:
    """Names one occurrence across files: the same bank, title, movement, day and amount paid
    is the same event however many files repeat it."""
    day = o.occurrence_date.isoformat() if o.occurrence_date else "-"
    return f"{o.bank_code}:{o.nosso_numero}:{o.code}:{day}:{o.paid_cents}"


def reasons_text(o: Occurrence) -> str:
    """The bank's reasons as "code text; code text" (a code alone when its text is unknown)."""
    return "; ".join(f"{r.code} {r.text}".strip() for r in o.reasons)


def describe(o: Occurrence) -> str:
    """The occurrence code and the bank's text for it, e.g. "02 Entrada confirmada"."""
    return f"{o.code} {o.description}".strip()


def status_reason(o: Occurrence) -> str:
    """Why the status changed, as kept with the boleto and sent in its event: a rejection's
    own reasons when the bank gave any, the occurrence itself otherwise."""
    if o.outcome is Outcome.REJECTED:
        return reasons_text(o) or describe(o)
    return describe(o)


def next_state(state: BankState, o: Occurrence, at: dt.datetime) -> BankState | None:
    """The boleto's bank state after `o`, or None when `o` moves nothing."""
    target = transition(state.status, o.outcome)
    if target is None:
        return None
    if target is BankStatus.PAID:
        return BankState(
            status=target,
            paid_cents=o.paid_cents,
            paid_on=o.occurrence_date or o.credit_date,
            fee_cents=o.fee_cents,
            changed_at=at,
        )
    reason = "" if target is BankStatus.REGISTERED else status_reason(o)
    return BankState(status=target, reason=reason, changed_at=at)


# Tuples: a retorno makes these for every occurrence it applies, four times faster than
# frozen dataclasses.
class Tracked(NamedTuple):
    """A boleto as a retorno sees it."""

    debt_id: str
    upload_id: str
    amount_cents: int
    state: BankState


class Recorded(NamedTuple):
    """An occurrence of a known boleto seen for the first time: stored once, by its key."""

    key: str
    debt_id: str
    occurrence: Occurrence
    moved: bool


class Change(NamedTuple):
    """A status change, as its event announces it."""

    boleto: Tracked  # with its new state
    occurrence: Occurrence

    @property
    def status(self) -> BankStatus:
        return self.boleto.state.status

    @property
    def amount_differs(self) -> bool:
        paid = self.boleto.state.paid_cents
        return self.status is BankStatus.PAID and paid != self.boleto.amount_cents


@dataclass(frozen=True)
class Finished:
    """A retorno file recorded as processed: the summary that stands for it, and whether this
    call recorded it (False: another call on the same bytes finished first, with its own)."""

    summary: str
    by_this_call: bool


@dataclass
class BatchPlan:
    recorded: list[Recorded] = field(default_factory=list)
    # The final state of every boleto the batch changed, by debt id.
    states: dict[str, Tracked] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    # Occurrences of nosso números no boleto here has: a person must look at them.
    unknown: list[Occurrence] = field(default_factory=list)
    # Recorded, but the status did not move (instructions, fees, a second confirmation).
    unchanged: list[tuple[Tracked, Occurrence]] = field(default_factory=list)
    # Already recorded, by an earlier file or earlier in this one: not applied again.
    repeated: int = 0


def plan_batch(
    occurrences: Iterable[Occurrence],
    boletos: Mapping[tuple[str, str], Tracked],
    known_keys: Set[str],
    at: dt.datetime,
) -> BatchPlan:
    """What a batch of occurrences, in file order, does to `boletos` (by bank code and nosso
    número) given the occurrence keys already stored."""
    plan = BatchPlan()
    seen: set[str] = set()
    states = plan.states
    # Every registration of a batch moves its boleto to the same state.
    registered = BankState(status=BankStatus.REGISTERED, changed_at=at)
    for o in occurrences:
        found = boletos.get((o.bank_code, o.nosso_numero))
        if found is None:
            plan.unknown.append(o)
            continue
        key = occurrence_key(o)
        if key in known_keys or key in seen:
            plan.repeated += 1
            continue
        seen.add(key)
        current = states.get(found.debt_id, found)
        target = transition(current.state.status, o.outcome)
        plan.recorded.append(Recorded(key, found.debt_id, o, target is not None))
        if target is None:
            plan.unchanged.append((current, o))
            continue
        new = registered if target is BankStatus.REGISTERED else next_state(current.state, o, at)
        assert new is not None  # the same transition next_state makes
        moved = Tracked(current.debt_id, current.upload_id, current.amount_cents, new)
        states[found.debt_id] = moved
        plan.changes.append(Change(moved, o))
    return plan
