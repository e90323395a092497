"""Reading a CNAB 240 retorno: what the bank did with each title, as `Occurrence`s.

Nothing is dropped: a line that cannot be read becomes an `Unmatched` with its reason, and a
header or trailer whose counts disagree with the file becomes a `FileError`; both are returned
beside the occurrences instead of raising, so one bad line never hides the rest of the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import NamedTuple

from .bank import CnabBank
from .banks import CNAB_BANKS
from .fields import RECORD_LENGTH, CnabFieldError, cut, read_date, read_int


class Outcome(Enum):
    REGISTERED = "REGISTERED"
    REJECTED = "REJECTED"
    PAID = "PAID"
    WRITTEN_OFF = "WRITTEN_OFF"
    DUE_DATE_CHANGED = "DUE_DATE_CHANGED"  # an alteração de vencimento confirmed
    REBATE_GRANTED = "REBATE_GRANTED"  # a concessão de abatimento confirmed
    INSTRUCTION_REJECTED = "INSTRUCTION_REJECTED"  # a baixa, abatimento or new date refused
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    text: str  # empty when the code is not one of the common ones, or not a rejection


# A tuple: a retorno makes one for every title it reads, four times faster than a frozen
# dataclass.
class Occurrence(NamedTuple):
    line_number: int  # of the segment T; its segment U is the next line
    bank_code: str
    nosso_numero: str  # spelled as IssuedBoleto.nosso_numero
    document_number: str  # seu número, as sent in the remessa
    code: str  # código de movimento retorno, T 16-17
    outcome: Outcome
    description: str
    # Segment T's fields at the bank's `CnabBank.segment_t` positions; FEBRABAN's are given.
    reasons: tuple[Reason, ...]  # motivos, T 214-223 (Itaú 214-221)
    face_value_cents: int  # T 82-96
    fee_cents: int  # tarifa/custas, T 199-213
    due_date: date | None  # T 74-81
    paid_cents: int  # valor pago pelo pagador, U 78-92
    credited_cents: int  # valor líquido creditado, U 93-107
    interest_cents: int  # juros/multa/encargos, U 18-32
    occurrence_date: date | None  # U 138-145: the payment date of a liquidação
    credit_date: date | None  # U 146-153


@dataclass(frozen=True, slots=True)
class Unmatched:
    line_number: int
    reason: str


@dataclass(frozen=True, slots=True)
class FileError:
    line_number: int | None  # None: about the whole file (a missing trailer, say)
    text: str


@dataclass(frozen=True, slots=True)
class Retorno:
    bank_code: str | None
    nsa: int | None
    generated_on: date | None
    occurrences: tuple[Occurrence, ...]
    unmatched: tuple[Unmatched, ...]
    errors: tuple[FileError, ...]


Item = Occurrence | Unmatched | FileError


@dataclass
class _State:
    bank: CnabBank | None = None
    nsa: int | None = None
    generated_on: date | None = None
    seen_header: bool = False
    seen_trailer: bool = False
    lots: int = 0
    lot_records: int | None = None  # records of the open lot so far; None when no lot is open
    records: int = 0
    pending_t: tuple[int, str] | None = None
    # What the last line produced, handed out and cleared line by line.
    out: list[Item] = field(default_factory=list)


class RetornoReader:
    """Reads a retorno line by line, handing out each item as soon as it is known, so a file
    of a million titles never has to be held whole: `read` yields occurrences, unmatched
    lines and file errors in file order; the header's facts are here once read."""

    def __init__(self) -> None:
        self._state = _State()

    @property
    def bank_code(self) -> str | None:
        return self._state.bank.code if self._state.bank else None

    @property
    def nsa(self) -> int | None:
        return self._state.nsa

    @property
    def generated_on(self) -> date | None:
        return self._state.generated_on

    def read(self, lines: Iterable[str]) -> Iterator[Item]:
        """Every item of the file whose lines are `lines` (CR and LF ends are tolerated)."""
        state = self._state
        # Blank lines are only an error if a record follows them: the newline after the last
        # record, or a DOS end-of-file mark, ends many real files.
        blanks: list[tuple[int, str]] = []
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip("\r\n")
            # Nearly every line is a segment T or U of the file's own bank, in an open lot:
            # read here without the general path's checks, which it passes.
            if not blanks and _is_plain_detail(state, line):
                occurrence = _plain_detail(state, number, line)
                if occurrence is not None:
                    yield occurrence
                    continue
            elif line.strip(" \x1a") == "":
                blanks.append((number, line))
                continue
            else:
                for held in blanks:
                    _read_line(state, *held)
                blanks.clear()
                _read_line(state, number, line)
            if state.out:
                yield from self._drain()
        yield from self._drain()
        yield from self._ends()

    def file_errors(self, lines: Iterable[str]) -> Iterator[FileError]:
        """The file errors `read` finds in `lines`, without reading the fields of their
        detail records, which is most of its work: they are counted and placed, all the file
        errors depend on. For a first look at a whole file before any of it is applied."""
        state = self._state
        blanks: list[tuple[int, str]] = []
        for number, raw in enumerate(lines, start=1):
            line = raw.rstrip("\r\n")
            if not blanks and _is_plain_detail(state, line):
                # No field of a detail makes a file error; a segment T waiting for its U
                # makes none either.
                state.records += 1
                if state.lot_records is not None:
                    state.lot_records += 1
                continue
            if line.strip(" \x1a") == "":
                blanks.append((number, line))
                continue
            for held in blanks:
                _read_line(state, *held)
            blanks.clear()
            _read_line(state, number, line)
            if state.out:
                yield from _errors_in(self._drain())
        yield from _errors_in(self._drain())
        yield from _errors_in(self._ends())

    def _ends(self) -> Iterator[Item]:
        """What the end of the file says: a segment T left without its U, missing records."""
        state = self._state
        _flush_t(state)
        if not state.seen_header:
            state.out.append(FileError(None, "no file header (record type 0)"))
        if not state.seen_trailer:
            state.out.append(FileError(None, "no file trailer (record type 9)"))
        if state.lot_records is not None:
            state.out.append(FileError(None, "the last lot has no trailer (record type 5)"))
        yield from self._drain()

    def _drain(self) -> Iterator[Item]:
        out = self._state.out
        if out:
            self._state.out = []
            yield from out


def _errors_in(items: Iterable[Item]) -> Iterator[FileError]:
    return (item for item in items if isinstance(item, FileError))


def parse_retorno(source: str | Iterable[str]) -> Retorno:
    """Parse a whole retorno, given as its text or as its lines (CR and LF are tolerated)."""
    lines = source.split("\n") if isinstance(source, str) else source
    reader = RetornoReader()
    occurrences: list[Occurrence] = []
    unmatched: list[Unmatched] = []
    errors: list[FileError] = []
    for item in reader.read(lines):
        if isinstance(item, Occurrence):
            occurrences.append(item)
        elif isinstance(item, Unmatched):
            unmatched.append(item)
        else:
            errors.append(item)
    return Retorno(
        bank_code=reader.bank_code,
        nsa=reader.nsa,
        generated_on=reader.generated_on,
        occurrences=tuple(occurrences),
        unmatched=tuple(unmatched),
        errors=tuple(errors),
    )


def _read_line(state: _State, number: int, line: str) -> None:
    state.records += 1
    if state.lot_records is not None:
        state.lot_records += 1
    kind = line[7:8]
    is_u = kind == "3" and line[13:14] == "U"
    if not is_u:
        _flush_t(state)
    if state.seen_trailer:
        state.out.append(FileError(number, "record after the file trailer"))
    if len(line) != RECORD_LENGTH or not line.isascii():
        what = f"{len(line)} characters" if line.isascii() else "non-ASCII characters"
        _unmatched(state, number, f"record has {what}, expected 240 ASCII characters")
        return
    bank = CNAB_BANKS.get(line[:3])
    if bank is None or (state.bank is not None and bank is not state.bank):
        _unmatched(state, number, f"bank code {line[:3]!r} is not this file's")
        return
    state.bank = state.bank or bank
    try:
        if kind == "0":
            _file_header(state, number, line)
        elif kind == "1":
            _lot_header(state, number, line)
        elif kind == "3":
            _detail(state, bank, number, line)
        elif kind == "5":
            _lot_trailer(state, number, line)
        elif kind == "9":
            _file_trailer(state, number, line)
        else:
            _unmatched(state, number, f"unknown record type {kind!r}")
    except CnabFieldError as error:
        _unmatched(state, number, str(error))


def _file_header(state: _State, number: int, line: str) -> None:
    if state.seen_header:
        state.out.append(FileError(number, "a second file header"))
    state.seen_header = True
    if line[142] != "2":
        state.out.append(FileError(number, f"file header code {line[142]!r}: not a retorno"))
    state.nsa = read_int(line, 158, 163, "NSA")
    state.generated_on = read_date(line, 144, 151, "generation date")


def _lot_header(state: _State, number: int, line: str) -> None:
    if state.lot_records is not None:
        state.out.append(FileError(number, "lot header inside an open lot"))
    state.lots += 1
    state.lot_records = 1
    if line[8:11] != "T01":
        state.out.append(
            FileError(number, f"lot operation/service {line[8:11]!r}, expected retorno of cobrança")
        )


def _detail(state: _State, bank: CnabBank, number: int, line: str) -> None:
    segment = line[13]
    if segment == "T":
        state.pending_t = (number, line)
        return
    if segment != "U":
        _unmatched(state, number, f"segment {segment!r} is not read")
        return
    pending = state.pending_t
    state.pending_t = None
    if pending is None or line[3:7] != pending[1][3:7]:
        _unmatched(state, number, "segment U without its segment T before it")
        return
    _pair(state, bank, *pending, number, line)


def _pair(
    state: _State, bank: CnabBank, t_number: int, t_line: str, number: int, line: str
) -> None:
    try:
        state.out.append(_occurrence(bank, t_number, t_line, line))
    except CnabFieldError as error:
        _unmatched(state, t_number, str(error))
        _unmatched(state, number, f"segment U of the unreadable segment T on line {t_number}")


def _is_plain_detail(state: _State, line: str) -> bool:
    """A detail record of the file's bank, whole and ASCII, before the file trailer: one
    `_read_line` would pass to `_detail` with nothing to say of it."""
    bank = state.bank
    return (
        line[7:8] == "3"
        and len(line) == RECORD_LENGTH
        and bank is not None
        and line.startswith(bank.code)
        and not state.seen_trailer
        and line.isascii()
    )


def _plain_detail(state: _State, number: int, line: str) -> Occurrence | None:
    """`_read_line` of a plain detail record: the occurrence its segment U completes, or
    None (a segment T held, or what the line made in `state.out`)."""
    bank = state.bank
    assert bank is not None
    state.records += 1
    if state.lot_records is not None:
        state.lot_records += 1
    segment = line[13]
    pending = state.pending_t
    if segment == "U" and pending is not None and line[3:7] == pending[1][3:7]:
        state.pending_t = None
        try:
            found = _quick_occurrence(bank, pending[0], pending[1], line)
        except CnabFieldError:
            found = None
        if found is None:  # a field unread there: the general reading says which
            _pair(state, bank, *pending, number, line)
        return found
    if segment == "T":
        if pending is not None:
            _flush_t(state)
        state.pending_t = (number, line)
        return None
    if segment != "U":
        _flush_t(state)
    _detail(state, bank, number, line)
    return None


def _occurrence(bank: CnabBank, t_number: int, t: str, u: str) -> Occurrence:
    layout = bank.segment_t
    code = cut(t, 16, 17)
    # Letters too: Santander reports a payer's DDA membership as occurrence A4.
    if not (code.isascii() and code.isalnum()):
        raise CnabFieldError(f"occurrence code at 16-17 is not alphanumeric: {code!r}")
    first = layout.reasons[0]
    motivos = cut(t, first, first - 1 + 2 * bank.reason_slots)
    reasons = _reasons(bank, motivos, bank.is_rejection(code))
    doc = layout.document_number[0]
    return Occurrence(
        line_number=t_number,
        bank_code=bank.code,
        nosso_numero=bank.retorno_nosso_numero(t),
        document_number=cut(t, doc, doc - 1 + bank.document_number_width).strip(),
        code=code,
        outcome=Outcome[bank.outcome_name(code)],
        description=bank.describe(code),
        reasons=reasons,
        face_value_cents=read_int(t, *layout.face_value, "valor nominal"),
        fee_cents=read_int(t, *layout.fee, "tarifa"),
        due_date=read_date(t, *layout.due_date, "vencimento"),
        paid_cents=read_int(u, 78, 92, "valor pago"),
        credited_cents=read_int(u, 93, 107, "valor líquido"),
        interest_cents=read_int(u, 18, 32, "juros/multa"),
        occurrence_date=read_date(u, 138, 145, "data da ocorrência"),
        credit_date=read_date(u, 146, 153, "data do crédito"),
    )


def _reasons(bank: CnabBank, motivos: str, rejection: bool) -> tuple[Reason, ...]:
    if not motivos.strip("0 "):
        return ()  # most occurrences carry no motivo at all
    return tuple(
        Reason(chunk, bank.reason_text(chunk) if rejection else "")
        for chunk in (motivos[i : i + 2] for i in range(0, len(motivos), 2))
        if chunk.strip("0 ")
    )


class _Slices:
    """A bank's segment T fields as Python slices, and what each occurrence code it used
    means, worked out once: a retorno reads them on every one of its titles."""

    def __init__(self, bank: CnabBank) -> None:
        layout = bank.segment_t
        first = layout.reasons[0] - 1
        self.motivos = slice(first, first + 2 * bank.reason_slots)
        doc = layout.document_number[0] - 1
        self.document_number = slice(doc, doc + bank.document_number_width)
        self.face_value = _slice(layout.face_value)
        self.fee = _slice(layout.fee)
        self.due_date = _slice(layout.due_date)
        # Code -> (outcome, description, whether its motivos are rejection reasons).
        self.codes: dict[str, tuple[Outcome, str, bool]] = {}

    def meaning(self, bank: CnabBank, code: str) -> tuple[Outcome, str, bool] | None:
        found = self.codes.get(code)
        if found is None and code.isascii() and code.isalnum():
            # At most 36 * 36 codes, and a bank uses a few dozen.
            found = (Outcome[bank.outcome_name(code)], bank.describe(code), bank.is_rejection(code))
            self.codes[code] = found
        return found


def _slice(span: tuple[int, int]) -> slice:
    return slice(span[0] - 1, span[1])


_SLICES: dict[str, _Slices] = {}
# Date texts read so far: a retorno's dates are few (its days of payment and credit, its
# titles' due dates) and each is read on hundreds of thousands of lines. read_date keeps such
# a cache too, but reaching it through its slice and call costs a tenth of the reading.
_DATES: dict[str, date | None] = {}
_MAX_DATES = 4_096


def _day(text: str) -> date | None:
    """read_date of a field, known by its text; raises CnabFieldError when it is no date."""
    try:
        return _DATES[text]
    except KeyError:
        pass
    day = read_date(text, 1, len(text), "date")
    if len(_DATES) >= _MAX_DATES:
        _DATES.clear()
    _DATES[text] = day
    return day


def _quick_occurrence(bank: CnabBank, t_number: int, t: str, u: str) -> Occurrence | None:
    """`_occurrence` of a pair whose every field reads, by slices worked out once per bank;
    None when a field does not read (`_occurrence` then says which, with its positions).
    The records are known to be 240 ASCII characters."""
    slices = _SLICES.get(bank.code)
    if slices is None:
        slices = _SLICES[bank.code] = _Slices(bank)
    code = t[15:17]
    meaning = slices.meaning(bank, code)
    if meaning is None:
        return None
    outcome, description, rejection = meaning
    face_value = t[slices.face_value]
    fee = t[slices.fee]
    paid = u[77:92]
    credited = u[92:107]
    interest = u[17:32]
    if not (
        face_value.isdigit()
        and fee.isdigit()
        and paid.isdigit()
        and credited.isdigit()
        and interest.isdigit()
    ):
        return None
    return Occurrence(
        t_number,
        bank.code,
        bank.retorno_nosso_numero(t),
        t[slices.document_number].strip(),
        code,
        outcome,
        description,
        _reasons(bank, t[slices.motivos], rejection),
        int(face_value),
        int(fee),
        _day(t[slices.due_date]),
        int(paid),
        int(credited),
        int(interest),
        _day(u[137:145]),
        _day(u[145:153]),
    )


def _lot_trailer(state: _State, number: int, line: str) -> None:
    if state.lot_records is None:
        state.out.append(FileError(number, "lot trailer without a lot header"))
        return
    stated = read_int(line, 18, 23, "records in lot")
    if stated != state.lot_records:
        state.out.append(
            FileError(
                number, f"lot trailer counts {stated} records, the lot has {state.lot_records}"
            )
        )
    state.lot_records = None


def _file_trailer(state: _State, number: int, line: str) -> None:
    state.seen_trailer = True
    lots = read_int(line, 18, 23, "lots in file")
    records = read_int(line, 24, 29, "records in file")
    if lots != state.lots:
        state.out.append(
            FileError(number, f"file trailer counts {lots} lots, the file has {state.lots}")
        )
    if records != state.records:
        state.out.append(
            FileError(
                number, f"file trailer counts {records} records, the file has {state.records}"
            )
        )


def _flush_t(state: _State) -> None:
    if state.pending_t is not None:
        _unmatched(state, state.pending_t[0], "segment T without its segment U after it")
        state.pending_t = None


def _unmatched(state: _State, number: int, reason: str) -> None:
    state.out.append(Unmatched(number, reason))
