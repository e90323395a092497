"""Fixed-width CNAB fields: writing a record from (start, end, text) parts and reading slices back.

Positions are 1-based and inclusive, as every CNAB manual prints them, so code and manual can be
compared line by line. Alphanumeric fields are folded to upper-case ASCII and padded right with
blanks; numeric fields are zero-padded on the left and never truncated (a number that does not
fit is an error, not a silently different number).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from ..errors import BoletoDomainError

RECORD_LENGTH = 240

Part = tuple[int, int, str]


class CnabFieldError(BoletoDomainError):
    """A value does not fit its CNAB field, or a record's parts do not tile 240 positions."""


def fold(text: str) -> str:
    """Upper-case printable ASCII: accents dropped (São -> SAO), anything else becomes a blank."""
    if text.isascii() and text.isprintable():
        return text.upper()  # most names: a third of a remessa's build time saved
    return _fold_accented(text)


# Cities, districts and streets repeat from title to title: São Paulo is folded once a file.
@functools.lru_cache(maxsize=65_536)
def _fold_accented(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else " " for c in kept).upper()


def alpha(value: str, width: int) -> str:
    # Names and addresses may be longer than their field: banks expect them cut, not refused.
    return fold(value)[:width].ljust(width)


def num(value: int | str, width: int, what: str = "field") -> str:
    text = str(value)
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise CnabFieldError(f"{what} must be a non-negative whole number, got {value!r}")
    if len(text) > width:
        raise CnabFieldError(f"{what} {text} does not fit {width} digits")
    return text.zfill(width)


def zeros(width: int) -> str:
    return "0" * width


def blanks(width: int) -> str:
    return " " * width


# A remessa's dates are few (its titles' due and issue days) and each is written on thousands
# of records; strftime would cost more than the rest of the field.
@functools.lru_cache(maxsize=4_096)
def ddmmyyyy(day: date | None) -> str:
    return f"{day.day:02d}{day.month:02d}{day.year:04d}" if day is not None else "00000000"


def build_record(parts: Sequence[Part]) -> str:
    """Join parts that must cover 1..240 in order, each exactly as wide as its positions."""
    return RecordTemplate(parts, ()).fill(())


@dataclass(frozen=True, slots=True)
class Slot:
    """A field of a record template, filled per record from the value named `name`.

    NUMBER takes a non-negative int and zero-pads it; TEXT takes folded text and cuts or pads it
    to the field; GIVEN takes text already made as wide as the field (a date, a bank's code).
    Each fills at least its width, so a record that comes out 240 long has every field in place.
    """

    name: str
    kind: str

    NUMBER = "d"
    TEXT = "s"
    GIVEN = "given"

    def spec(self, width: int) -> str:
        if self.kind == Slot.NUMBER:
            return f"%0{width}d"
        if self.kind == Slot.TEXT:
            return f"%-{width}.{width}s"
        return f"%-{width}s"


def number(name: str) -> Slot:
    return Slot(name, Slot.NUMBER)


def text(name: str) -> Slot:
    return Slot(name, Slot.TEXT)


def given(name: str) -> Slot:
    return Slot(name, Slot.GIVEN)


TemplatePart = tuple[int, int, "str | Slot"]


class RecordTemplate:
    """A record whose fixed fields are checked and joined once, and whose slots are filled per
    record by one positional `%` formatting: a remessa writes two or three records a title, and
    building each from its parts was most of a cut's time.

    `values` come in the slots' order, which the caller states as `names` and the template
    checks once: a tuple is a third of the cost of a mapping here.
    """

    def __init__(self, parts: Sequence[TemplatePart], names: Sequence[str]) -> None:
        self._parts = tuple(parts)
        expected_start = 1
        pieces: list[str] = []
        self._slots: list[tuple[int, int, Slot]] = []
        for start, end, part in parts:
            width = end - start + 1
            if start != expected_start or width < (1 if isinstance(part, Slot) else 0):
                raise CnabFieldError(
                    f"field {start}-{end} where position {expected_start} was expected next"
                )
            if isinstance(part, Slot):
                pieces.append(part.spec(width))
                self._slots.append((start, end, part))
            else:
                if len(part) != width or not part.isascii():
                    raise CnabFieldError(
                        f"field {start}-{end} got {len(part)} characters ({part!r}) "
                        f"for {width} ASCII positions"
                    )
                pieces.append(part.replace("%", "%%"))
            expected_start = end + 1
        if expected_start != RECORD_LENGTH + 1:
            raise CnabFieldError(f"record ends at position {expected_start - 1}, not 240")
        slotted = tuple(slot.name for _, _, slot in self._slots)
        if slotted != tuple(names):
            raise ValueError(f"the template's slots are {slotted}, not {tuple(names)}")
        self._format = "".join(pieces)

    def fixed(self, values: Mapping[str, object]) -> RecordTemplate:
        """This template with the slots named in `values` filled once: what most records
        share (no interest, no discount) is then formatted with the template, not per record.
        The rest keep their order."""
        parts: list[TemplatePart] = []
        for start, end, part in self._parts:
            if isinstance(part, Slot) and part.name in values:
                part = part.spec(end - start + 1) % (values[part.name],)
            parts.append((start, end, part))
        names = [p.name for _, _, p in parts if isinstance(p, Slot)]
        return RecordTemplate(parts, names)

    def fill(self, values: tuple[object, ...]) -> str:
        record = self._format % values
        if len(record) != RECORD_LENGTH or not record.isascii():
            raise self._misfit(values)
        return record

    def _misfit(self, values: tuple[object, ...]) -> CnabFieldError:
        for (start, end, slot), value in zip(self._slots, values, strict=True):
            filled = slot.spec(end - start + 1) % (value,)
            if len(filled) != end - start + 1 or not filled.isascii():
                return CnabFieldError(
                    f"field {start}-{end} ({slot.name}) got {len(filled)} characters "
                    f"({filled!r}) for {end - start + 1} ASCII positions"
                )
        return CnabFieldError("CNAB records are ASCII only")


def cut(line: str, start: int, end: int) -> str:
    return line[start - 1 : end]


def read_int(line: str, start: int, end: int, what: str) -> int:
    text = line[start - 1 : end]  # cut(), in line: a retorno reads six numbers a title
    if not (text.isascii() and text.isdigit()):
        raise CnabFieldError(f"{what} at {start}-{end} is not numeric: {text!r}")
    return int(text)


def read_date(line: str, start: int, end: int, what: str) -> date | None:
    """DDMMAAAA; all zeros or all blanks mean 'not informed'."""
    text = cut(line, start, end)
    try:
        return _ddmmyyyy_date(text)
    except ValueError as error:
        raise CnabFieldError(f"{what} at {start}-{end} is {error}: {text!r}") from None


# A retorno's dates are few (its days of payment and credit, its titles' due dates) and each
# is read on hundreds of thousands of lines.
@functools.lru_cache(maxsize=4_096)
def _ddmmyyyy_date(text: str) -> date | None:
    if text.strip("0 ") == "":
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError("not a date")
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        raise ValueError("not a valid date") from None
