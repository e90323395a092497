"""When remessas are cut and what they are called: pure decisions, no I/O.

A remessa is cut either once a day (every boleto issued before the day's cut time, in
Brazil's official time) or per upload (an upload's boletos once none of them was issued for
a quiet period). Either way a file carries at most `max_titles` titles; more make more files.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from boleto_service.domain.cnab240 import PayerIdKind, RemessaTitle
from boleto_service.domain.cnab240.remessa import MAX_NSA, RemessaDetails, max_titles_per_file
from boleto_service.domain.errors import Problem
from boletos.platform.brasilia import BRASILIA

# The most titles a file can number whatever segments a title takes (P, Q and R).
MAX_TITLES = max_titles_per_file()


# The reasons a boleto is left out of every remessa: no CPF or CNPJ, no address (the file
# had no address columns). Anything else a bank would refuse is named by the title's field.
NO_CPF_CNPJ = "no_cpf_cnpj"
NO_ADDRESS = "no_address"


class CutPer(StrEnum):
    DAY = "day"
    UPLOAD = "upload"


@dataclass(frozen=True, kw_only=True)
class RemessaSettings:
    # Where files are written; empty: no remessas at all.
    directory: str = ""
    per: CutPer = CutPer.DAY
    # Brazil's official time (UTC-3 all year), for per=day.
    cut_at: dt.time = dt.time(18, 0)
    # For per=upload: an upload is cut once none of its boletos was issued for this long.
    quiet_seconds: int = 60
    max_titles: int = MAX_TITLES

    @property
    def enabled(self) -> bool:
        return bool(self.directory)


@dataclass(frozen=True, slots=True)
class Account:
    """The beneficiary account a remessa is numbered for: NSAs count per bank account; the
    boletos a remessa takes are its beneficiary's."""

    bank_code: str
    agencia: str
    conta: str
    beneficiary: str = "default"


def remessa_id(account: Account, nsa: int) -> str:
    return f"{account.bank_code}-{account.agencia}-{account.conta}-{nsa:06d}"


def file_name(account: Account, nsa: int) -> str:
    return f"{account.bank_code}_{account.agencia}_{account.conta}_{nsa:06d}.rem"


def next_nsa(last: int | None) -> int:
    nsa = (last or 0) + 1
    if nsa > MAX_NSA:
        # Six digits in the file header; a bank would take a wrapped number as a resend.
        raise NsaExhausted(f"NSA {nsa} does not fit the file header's 6 digits")
    return nsa


class NsaExhausted(RuntimeError):
    """The account has used every NSA the CNAB header can carry."""


def taker(details: RemessaDetails) -> Take:
    """Adds each title its bank would register to `details`; for any other, says why as a
    metric label (no personal data)."""

    def take(title: RemessaTitle) -> str | None:
        problems = details.add(title)
        return refusal_reason(title, problems) if problems else None

    return take


def refusal_reason(title: RemessaTitle, problems: list[Problem]) -> str:
    """The label of a refused title: NO_CPF_CNPJ, NO_ADDRESS or the field of its first
    problem."""
    if title.payer.id_kind is PayerIdKind.OTHER:
        return NO_CPF_CNPJ
    if title.payer.address is None:
        return NO_ADDRESS
    return problems[0].field


def parse_cut_at(text: str) -> dt.time:
    """HH:MM, 24-hour clock; ValueError otherwise."""
    hours, sep, minutes = text.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2):
        raise ValueError(f"expected HH:MM, got {text!r}")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"expected HH:MM, got {text!r}")
    return dt.time(int(hours), int(minutes))


def last_cut(now: dt.datetime, cut_at: dt.time) -> dt.datetime:
    """The latest moment not after `now` when Brazil's clock read `cut_at`, in UTC."""
    local = now.astimezone(BRASILIA)
    today = dt.datetime.combine(local.date(), cut_at, tzinfo=BRASILIA)
    moment = today if today <= local else today - dt.timedelta(days=1)
    return moment.astimezone(dt.UTC)


def next_cut(now: dt.datetime, cut_at: dt.time) -> dt.datetime:
    return last_cut(now, cut_at) + dt.timedelta(days=1)


def quiet_since(now: dt.datetime, quiet_seconds: int) -> dt.datetime:
    """Uploads whose newest waiting boleto was issued before this are cut."""
    return now.astimezone(dt.UTC) - dt.timedelta(seconds=quiet_seconds)


# How often the scheduler looks again at most: files left unwritten are retried this often,
# and a per-day schedule notices a clock that moved (a test's, or NTP's).
MAX_TICK_SECONDS = 60.0
MIN_TICK_SECONDS = 1.0


def tick_seconds(settings: RemessaSettings, now: dt.datetime) -> float:
    """How long the scheduler waits before it looks again."""
    if settings.per is CutPer.UPLOAD:
        # A quarter of the quiet period: an upload is cut at most 25% later than promised.
        return min(max(settings.quiet_seconds / 4, MIN_TICK_SECONDS), MAX_TICK_SECONDS / 4)
    until = (next_cut(now, settings.cut_at) - now).total_seconds()
    return min(max(until, MIN_TICK_SECONDS), MAX_TICK_SECONDS)


class Lock(Enum):
    """How a cut on PostgreSQL treats another replica cutting at the same moment."""

    WAIT = "wait"  # take turns: the cut starts once the other's transaction ends
    TRY = "try"  # leave it to the other: the cut does nothing
    NONE = "none"  # cut alongside it; the UPDATE alone keeps each boleto in one remessa


@dataclass(frozen=True, slots=True)
class RemessaRecord:
    remessa_no: int
    remessa_id: str
    account: Account
    nsa: int
    upload_id: str | None
    titles: int
    amount_cents: int
    file_name: str
    size_bytes: int | None
    sha256: str | None
    # The file's generation time (its header says so): the file follows from the rows alone.
    created_at: dt.datetime
    # None until the file is on disk whole.
    written_at: dt.datetime | None


@dataclass(frozen=True)
class Cut:
    """One cutting transaction: the remessa it made, if any (its titles went to the cut's
    Take), and the boletos it left out."""

    record: RemessaRecord | None
    # Boletos marked NOT_REGISTRABLE, by reason.
    left_out: Counter[str] = field(default_factory=Counter)


# Takes a title into the remessa being cut, or says why the bank cannot register it.
Take = Callable[[RemessaTitle], str | None]


class CutInProgress(Exception):
    """Another replica holds the cut (PostgreSQL, Lock.TRY): what waits is left to it."""
