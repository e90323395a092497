"""The columns of a debtors' file, each described once.

A column says what its header is called, which field of a valid row it fills, the pattern
the fast path admits (values already in normal form only), how the fast path finishes a
value the pattern admitted, how the careful path parses any value and explains a bad one,
and whether the value enters the content hash that tells a duplicate from a conflict. The
header check, both validation paths and the event builder all read this table.

Adding a column: one Column here and its field in ValidRow (same order), a field of the
same name in events.proto's ImportedDebt, and an error code in errors.py and ingest.proto
when it can be wrong in a new way. An optional column may be left out of a file's header;
its value is then empty. A hashed column changes every debt's fingerprint, so a
file sent before and again after the change reads as conflicts: add new columns unhashed
unless that is what is wanted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from boletos.platform.text import ACTED_ON, char_class
from ingest_service.domain.errors import ErrorCode

NAME_MAX_CHARS = 200
EMAIL_MAX_CHARS = 254
GOVERNMENT_ID_MAX_DIGITS = 14
# The barcode's amount field has 10 digits of centavos.
AMOUNT_MAX_CENTS = 99_999_999_99
# No boleto can be due before FEBRABAN's due-date factor begins, nor further ahead than the
# window banks accept; a date outside is a typo (1900-01-01, 2220-01-01), not a debt.
EARLIEST_DUE_DATE = dt.date(1997, 10, 7)
DAYS_AHEAD = 5500
NIL_UUID = "00000000-0000-0000-0000-000000000000"
# Room for what people write; a CNAB segment Q folds them to 40, 15 and 15 characters.
ADDRESS_MAX_CHARS = 200
DISTRICT_MAX_CHARS = 100
CITY_MAX_CHARS = 100
# The 26 states and the Distrito Federal.
STATES = frozenset(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)


@dataclass(frozen=True, slots=True)
class Rules:
    """What validation needs to know of the day it runs on."""

    latest_due_date: dt.date
    # ISO dates compare as text, which keeps the fast path from parsing them. Made once:
    # every row reads it, and two isoformat() calls a row were a fifth of the fast path.
    due_window: tuple[str, str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        window = (EARLIEST_DUE_DATE.isoformat(), self.latest_due_date.isoformat())
        object.__setattr__(self, "due_window", window)

    @classmethod
    def on(cls, today: dt.date) -> Rules:
        return cls(latest_due_date=today + dt.timedelta(days=DAYS_AHEAD))


class ValidRow(NamedTuple):
    """An accepted row: the columns' values in table order, then where it came from and its
    content's fingerprint. Field names match events.proto's ImportedDebt."""

    name: str
    government_id: str
    email: str
    amount_cents: int
    due_date: str  # ISO 8601
    debt_id: str  # lowercase 8-4-4-4-12
    # The payer's address, all empty when the file has no address columns.
    address: str
    district: str
    zip_code: str  # 8 digits
    city: str
    state: str  # upper-case UF
    # An early-payment discount: centavos off when paid by the date; 0 and "" for none.
    discount_cents: int
    discount_until: str  # ISO 8601
    line: int
    content_hash: int


class Invalid(NamedTuple):
    """Why a value is refused: a stable code and a message for people."""

    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    field: str
    # Admits only values already in normal form, each part bounded in length.
    pattern: str
    # The careful path: the normal-form value, or why the value is refused.
    parse: Callable[[str, Rules], object]
    # Finishes a value the pattern admitted: a Python expression of `{v}` (the admitted
    # text) and the names of fast_names(), giving the value, or None to send the row to the
    # careful path. None when the pattern alone decides. An expression rather than a
    # function because it is written into each header's acceptor (fast_rows.py), where a
    # call per column per row would cost more than the work.
    fast: str | None
    hashed: bool
    # A file may leave it out; its value is then `absent`.
    optional: bool = False
    absent: object = ""


def _show(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _line_break(column: str) -> Invalid:
    # A boleto prints it on one line and an e-mail header cannot carry it.
    return Invalid(
        ErrorCode.LINE_BREAK_IN_VALUE,
        f"{column} holds a line break inside its quotes; a boleto and an e-mail carry it on "
        "one line",
    )


# -- text people read: the name and the address --------------------------------------------

# A boleto, a bank file, an e-mail's To header and a terminal all show these fields: what
# would act instead of showing there is refused (see platform.text).
_UNPRINTABLE = char_class(ACTED_ON)
_UNPRINTABLE_RE = re.compile("[" + _UNPRINTABLE + "]")


def _free_text(limit: int) -> str:
    edge = '[^,"\\s' + _UNPRINTABLE + "]"
    return edge + "(?:[^," + '"' + _UNPRINTABLE + "]{0," + str(limit - 2) + "}" + edge + ")?"


def _unprintable(column: str) -> Invalid:
    return Invalid(
        ErrorCode.UNPRINTABLE_CHARACTER,
        f"{column} holds a line break, a control character or a text-direction "
        "override, which a boleto and a bank file cannot print",
    )


# -- name ------------------------------------------------------------------------------------

_NAME = _free_text(NAME_MAX_CHARS)


def parse_name(value: str, _rules: Rules) -> str | Invalid:
    if not value:
        return Invalid(ErrorCode.NAME_EMPTY, "name is empty")
    if "\n" in value or "\r" in value:
        return _line_break("name")
    if _UNPRINTABLE_RE.search(value):
        return _unprintable("name")
    if len(value) > NAME_MAX_CHARS:
        return Invalid(
            ErrorCode.NAME_TOO_LONG,
            f"name has {len(value)} characters; at most {NAME_MAX_CHARS} are accepted",
        )
    return value


# -- governmentId ----------------------------------------------------------------------------

_GOVERNMENT_ID = r"[0-9]{1," + str(GOVERNMENT_ID_MAX_DIGITS) + "}"
_GOVERNMENT_ID_RE = re.compile(_GOVERNMENT_ID)


def parse_government_id(value: str, _rules: Rules) -> str | Invalid:
    if _GOVERNMENT_ID_RE.fullmatch(value):
        return value
    # The value itself is personal data: the message describes it without echoing it.
    what = " (it is empty)" if not value else f" (it has {len(value)} characters)"
    return Invalid(
        ErrorCode.GOVERNMENT_ID_INVALID,
        "governmentId must be 1 to 14 digits, without dots, dashes, slashes or letters" + what,
    )


# -- email -----------------------------------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@" + _LABEL + r"(?:\." + _LABEL + r"){1,8}"
EMAIL_RE = re.compile(_EMAIL)


def parse_email(value: str, _rules: Rules) -> str | Invalid:
    if "\n" in value or "\r" in value:
        return _line_break("email")
    if len(value) <= EMAIL_MAX_CHARS and EMAIL_RE.fullmatch(value):
        return value
    return Invalid(
        ErrorCode.EMAIL_INVALID,
        f"email {_show(value)} is not a valid address (expected like name@example.com)",
    )


_EMAIL_FAST = "{v} if len({v}) <= EMAIL_MAX_CHARS else None"


# -- debtAmount ------------------------------------------------------------------------------

_AMOUNT = r"[0-9]{1,8}(?:\.[0-9]{1,2})?"
_AMOUNT_RE = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")


def parse_amount(value: str, _rules: Rules | None = None) -> int | Invalid:
    """debtAmount in centavos."""
    match = _AMOUNT_RE.fullmatch(value)
    if match is None:
        hint = " (use a dot for decimals and no thousands separator)" if "," in value else ""
        return Invalid(
            ErrorCode.AMOUNT_INVALID,
            f"debtAmount {_show(value)} is not a decimal number like 1234.56{hint}",
        )
    sign, whole, fraction = match.groups()
    not_positive = Invalid(
        ErrorCode.AMOUNT_NOT_POSITIVE, f"debtAmount {_show(value)} must be above zero"
    )
    too_large = Invalid(
        ErrorCode.AMOUNT_TOO_LARGE,
        f"debtAmount {_show(value)} is above 99999999.99, the most a boleto can carry",
    )
    if sign == "-" and match.group(0).strip("-0."):
        return not_positive
    fraction = (fraction or "").rstrip("0")
    whole = whole.lstrip("0")
    # Compared as digit strings: int() of a thousands-digit amount would raise.
    if sign != "-" and (len(whole), whole + fraction) > (8, "9999999999"):
        return too_large
    if len(fraction) > 2:
        return Invalid(
            ErrorCode.AMOUNT_TOO_PRECISE,
            f"debtAmount {_show(value)} has more than 2 decimal places",
        )
    cents = int(whole or "0") * 100 + int(fraction.ljust(2, "0"))
    if cents == 0:
        return not_positive
    if cents > AMOUNT_MAX_CENTS:
        return too_large
    return cents


def amount_fast(value: str) -> int | None:
    """Centavos of an amount the pattern admitted; None for zero."""
    whole, _, part = value.partition(".")
    cents = int(whole) * 100 + (int(part.ljust(2, "0")) if part else 0)
    return cents or None


# Most files write whole amounts: those skip the call.
_AMOUNT_FAST = "(int({v}) * 100 or None) if '.' not in {v} else amount_fast({v})"


# -- debtDueDate -----------------------------------------------------------------------------

_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DATE_RE = re.compile(_DATE)


def parse_due_date(value: str, rules: Rules) -> str | Invalid:
    if not (_DATE_RE.fullmatch(value) and _real_date(value)):
        return Invalid(
            ErrorCode.DUE_DATE_INVALID,
            f"debtDueDate {_show(value)} is not a real date in the form YYYY-MM-DD",
        )
    earliest, latest = rules.due_window
    if not earliest <= value <= latest:
        return Invalid(
            ErrorCode.DUE_DATE_OUT_OF_RANGE,
            f"debtDueDate {value} is outside the dates a boleto can carry ({earliest} to {latest})",
        )
    return value


@lru_cache(maxsize=100_000)
def _real_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_DUE_DATE_FAST = "{v} if due_earliest <= {v} <= due_latest and real_date({v}) else None"


# -- debtId ----------------------------------------------------------------------------------

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_FORMS = re.compile(
    r"(?:urn:uuid:)?(\{)?([0-9a-fA-F]{8})(-?)([0-9a-fA-F]{4})\3([0-9a-fA-F]{4})\3"
    r"([0-9a-fA-F]{4})\3([0-9a-fA-F]{12})(?(1)\})"
)


def canonical_uuid(value: str) -> str:
    """The lowercase 8-4-4-4-12 form of a UUID written with or without dashes, braces or a
    urn:uuid: prefix; empty for anything else (uuid.UUID alone would also take '0x' and
    underscores, letting two spellings of different ids pass)."""
    match = _UUID_FORMS.fullmatch(value)
    if match is None:
        return ""
    parts = match.groups()
    return "-".join((parts[1], parts[3], parts[4], parts[5], parts[6])).lower()


def parse_debt_id(value: str, _rules: Rules) -> str | Invalid:
    canonical = canonical_uuid(value)
    if canonical == NIL_UUID:
        return Invalid(
            ErrorCode.DEBT_ID_INVALID,
            "debtId is the nil UUID (all zeros), which names no debt; give each debt its own id",
        )
    return canonical or Invalid(
        ErrorCode.DEBT_ID_INVALID,
        f"debtId {_show(value)} is not a UUID (expected like 8c8b3f6e-2a3b-4c1d-9e0f-1a2b3c4d5e6f)",
    )


# The nil UUID has no letters: compared before lowering, it is found all the same.
_DEBT_ID_FAST = "{v}.lower() if {v} != NIL_UUID else None"


# -- the payer's address --------------------------------------------------------------------


def _text_parser(column: str, limit: int, *, required: bool) -> Callable[[str, Rules], object]:
    def parse(value: str, _rules: Rules) -> str | Invalid:
        if not value:
            if not required:
                return ""
            return Invalid(
                ErrorCode.ADDRESS_INCOMPLETE,
                f"{column} is empty; with address columns every row needs address, zipCode, "
                "city and state",
            )
        if _UNPRINTABLE_RE.search(value):
            return Invalid(
                ErrorCode.UNPRINTABLE_CHARACTER,
                f"{column} holds a line break, a control character or a text-direction "
                "override, which a boleto and a bank file cannot print",
            )
        if len(value) > limit:
            return Invalid(
                ErrorCode.ADDRESS_TOO_LONG,
                f"{column} has {len(value)} characters; at most {limit} are accepted",
            )
        return value

    return parse


_ZIP_CODE = r"[0-9]{5}-?[0-9]{3}"
_ZIP_CODE_RE = re.compile(_ZIP_CODE)


def parse_zip_code(value: str, _rules: Rules) -> str | Invalid:
    if not value:
        return Invalid(
            ErrorCode.ADDRESS_INCOMPLETE,
            "zipCode is empty; with address columns every row needs address, zipCode, city "
            "and state",
        )
    if _ZIP_CODE_RE.fullmatch(value) and value.replace("-", "") != "00000000":
        return value.replace("-", "")
    return Invalid(
        ErrorCode.ZIP_CODE_INVALID,
        f"zipCode {_show(value)} is not a CEP (8 digits, like 01310-100 or 01310100)",
    )


def zip_code_fast(value: str) -> str | None:
    digits = value.replace("-", "")
    return None if digits == "00000000" else digits


_STATE = "(?:" + "|".join(sorted(STATES)) + ")"


def parse_state(value: str, _rules: Rules) -> str | Invalid:
    if not value:
        return Invalid(
            ErrorCode.ADDRESS_INCOMPLETE,
            "state is empty; with address columns every row needs address, zipCode, city and state",
        )
    if value.upper() in STATES:
        return value.upper()
    return Invalid(
        ErrorCode.STATE_INVALID,
        f"state {_show(value, 8)} is not one of the 27 UFs (two letters, like SP or RJ)",
    )


# -- the early-payment discount ------------------------------------------------------------


def parse_discount_amount(value: str, _rules: Rules) -> int | Invalid:
    if not value:
        return 0
    cents = parse_amount(value)
    if isinstance(cents, Invalid):
        return Invalid(
            ErrorCode.DISCOUNT_INVALID,
            f"discountAmount {_show(value)} is not an amount above zero like 12.50",
        )
    return cents


# Zero is refused like a zero debtAmount: the careful path explains it.
_DISCOUNT_AMOUNT_FAST = "amount_fast({v}) if {v} else 0"


def parse_discount_until(value: str, rules: Rules) -> str | Invalid:
    if not value:
        return ""
    if not (_DATE_RE.fullmatch(value) and _real_date(value)):
        return Invalid(
            ErrorCode.DISCOUNT_INVALID,
            f"discountUntil {_show(value)} is not a real date in the form YYYY-MM-DD",
        )
    return value


def discount_problem(amount_cents: int, due_date: str, cents: int, until: str) -> str | None:
    """Why a row's discount cannot be granted, given the row's own amount and due date."""
    if bool(cents) != bool(until):
        return "discountAmount and discountUntil go together: give both, or leave both empty"
    if cents and cents >= amount_cents:
        return "discountAmount must be less than debtAmount"
    if until and until > due_date:
        return "discountUntil must not be after debtDueDate (it rewards paying early)"
    return None


# -- the table -------------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column("name", "name", _NAME, parse_name, None, hashed=True),
    Column("governmentId", "government_id", _GOVERNMENT_ID, parse_government_id, None, True),
    Column("email", "email", _EMAIL, parse_email, _EMAIL_FAST, hashed=True),
    Column("debtAmount", "amount_cents", _AMOUNT, parse_amount, _AMOUNT_FAST, hashed=True),
    Column("debtDueDate", "due_date", _DATE, parse_due_date, _DUE_DATE_FAST, hashed=True),
    # The key: a debt is this id; its content is everything hashed.
    Column("debtId", "debt_id", _UUID, parse_debt_id, _DEBT_ID_FAST, hashed=False),
    # Unhashed, so a file sent again with its addresses added or corrected is a duplicate:
    # the boleto was issued already, and what the bank registers does not change the debt.
    Column(
        "address",
        "address",
        _free_text(ADDRESS_MAX_CHARS),
        _text_parser("address", ADDRESS_MAX_CHARS, required=True),
        None,
        hashed=False,
        optional=True,
    ),
    Column(
        "district",
        "district",
        "(?:" + _free_text(DISTRICT_MAX_CHARS) + ")?",
        _text_parser("district", DISTRICT_MAX_CHARS, required=False),
        None,
        hashed=False,
        optional=True,
    ),
    Column(
        "zipCode",
        "zip_code",
        _ZIP_CODE,
        parse_zip_code,
        "zip_code_fast({v})",
        hashed=False,
        optional=True,
    ),
    Column(
        "city",
        "city",
        _free_text(CITY_MAX_CHARS),
        _text_parser("city", CITY_MAX_CHARS, required=True),
        None,
        hashed=False,
        optional=True,
    ),
    Column("state", "state", _STATE, parse_state, None, hashed=False, optional=True),
    Column(
        "discountAmount",
        "discount_cents",
        "(?:" + _AMOUNT + ")?",
        parse_discount_amount,
        _DISCOUNT_AMOUNT_FAST,
        hashed=False,
        optional=True,
        absent=0,
    ),
    Column(
        "discountUntil",
        "discount_until",
        "(?:" + _DATE + ")?",
        parse_discount_until,
        "{v} if not {v} or real_date({v}) else None",
        hashed=False,
        optional=True,
    ),
)


def fast_names(rules: Rules) -> dict[str, object]:
    """What the columns' fast expressions may name."""
    earliest, latest = rules.due_window
    return {
        "EMAIL_MAX_CHARS": EMAIL_MAX_CHARS,
        "NIL_UUID": NIL_UUID,
        "amount_fast": amount_fast,
        "zip_code_fast": zip_code_fast,
        "real_date": _real_date,
        "due_earliest": earliest,
        "due_latest": latest,
    }


COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMN_NAMES = tuple(c.name for c in COLUMNS if not c.optional)
OPTIONAL_COLUMN_NAMES = tuple(c.name for c in COLUMNS if c.optional)
# A file with any address column has these too; district may be left out.
ADDRESS_COLUMN_NAMES = ("address", "district", "zipCode", "city", "state")
ADDRESS_REQUIRED = ("address", "zipCode", "city", "state")
DISCOUNT_COLUMN_NAMES = ("discountAmount", "discountUntil")
# Where the values a row-level rule reads sit in a ValidRow.
_AMOUNT_AT, _DUE_AT, _DISCOUNT_AT, _UNTIL_AT = (
    next(i for i, c in enumerate(COLUMNS) if c.field == f)
    for f in ("amount_cents", "due_date", "discount_cents", "discount_until")
)


def row_problem(values: Sequence[object]) -> str | None:
    """A rule across a row's columns (values in table order), once each column is valid."""
    cents, until = values[_DISCOUNT_AT], values[_UNTIL_AT]
    if not cents and not until:
        return None
    return discount_problem(
        values[_AMOUNT_AT],  # type: ignore[arg-type]
        values[_DUE_AT],  # type: ignore[arg-type]
        cents,  # type: ignore[arg-type]
        until,  # type: ignore[arg-type]
    )


KEY = next(i for i, c in enumerate(COLUMNS) if c.field == "debt_id")
_HASHED = tuple(i for i, c in enumerate(COLUMNS) if c.hashed)
_hashed_values = operator.itemgetter(*_HASHED)


def content_hash(values: Sequence[object]) -> int:
    """A stable 64-bit fingerprint of a debt's hashed values (in table order), to tell
    duplicates from conflicts."""
    text = "\x1f".join(map(str, _hashed_values(values)))
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
