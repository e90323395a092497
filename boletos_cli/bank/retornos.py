"""A bank, simulated: the CNAB 240 retorno a bank would send back for a remessa.

The records echo what the bank copies from the remessa's segments P and Q (account, nosso
número, seu número, due date, face value, payer) and add what only the bank knows: the
occurrence code, its reasons, the amount paid, the dates and the fees. Segment T is laid out as
the bank's `CnabBank` says (its `segment_t` and `retorno_title_block`), so it is what the reader
expects of that bank. Tests use it to build retornos with exact, known contents; the retorno
benchmark uses its streaming form to write a file of a million titles without holding it in
memory; the local bank (`boletos bank`) answers the stack's remessas with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from boleto_service.domain.cnab240 import RECORD_LENGTH, cnab_bank_for

PAID_ON = date(2025, 7, 3)
CREDITED_ON = date(2025, 7, 4)


@dataclass(frozen=True)
class Paid:
    amount_cents: int
    paid_on: date
    credited_on: date
    fee_cents: int = 0
    interest_cents: int = 0


@dataclass(frozen=True)
class Rejected:
    reasons: tuple[str, ...]
    fee_cents: int = 0


@dataclass(frozen=True)
class Registered:
    fee_cents: int = 0


@dataclass(frozen=True)
class WrittenOff:
    on: date
    fee_cents: int = 0


@dataclass(frozen=True)
class CarriedOut:
    """The bank's occurrence `code` for an instruction it carried out (a baixa, a new due
    date, an abatimento)."""

    code: str
    fee_cents: int = 0


Result = Paid | Rejected | Registered | WrittenOff | CarriedOut

_CODES: dict[type, str] = {Paid: "06", Rejected: "03", Registered: "02", WrittenOff: "09"}


def _amount(cents: int) -> str:
    return f"{cents:015d}"


def _dmy(day: date | None) -> str:
    return day.strftime("%d%m%Y") if day else "00000000"


def _segment_t(start: str, fields: list[tuple[tuple[int, int], str]]) -> str:
    """A segment T from its first 17 positions and each field, in position order, at its
    (start, end): zeros in between, as the numeric fields left out are, and blanks after the
    last."""
    record = start
    for (first, last), text in fields:
        if first <= len(record) or len(text) != last - first + 1:
            raise ValueError(f"segment T field {first}-{last} does not fit {text!r}")
        record = record.ljust(first - 1, "0") + text
    return record.ljust(RECORD_LENGTH)


def pair(bank: str, seq: int, p: str, q: str, result: Result, lot: int = 1) -> list[str]:
    """Segments T and U for one title, copying what the bank echoes from segments P and Q;
    `seq` is the segment T's number in lot number `lot`."""
    cnab = cnab_bank_for(bank)
    layout = cnab.segment_t
    reasons = result.reasons if isinstance(result, Rejected) else ()
    first, last = layout.reasons
    motivos = "".join(reasons).ljust(2 * cnab.reason_slots, "0").ljust(last - first + 1)
    code = result.code if isinstance(result, CarriedOut) else _CODES[type(result)]
    fee = result.fee_cents
    t = _segment_t(
        f"{bank}{lot:04d}3{seq:05d}T {code}",
        [
            ((18, layout.carteira - 1), cnab.retorno_title_block(p)),
            ((layout.carteira, layout.carteira), p[57]),
            (layout.document_number, p[62:77]),
            (layout.due_date, p[77:85]),
            (layout.face_value, p[85:100]),
            (layout.company_use, p[195:220]),
            (layout.payer, q[17:73]),
            (layout.fee, _amount(fee)),
            (layout.reasons, motivos),
        ],
    )
    paid = result if isinstance(result, Paid) else None
    occurred = paid.paid_on if paid else result.on if isinstance(result, WrittenOff) else None
    u = (
        f"{bank}{lot:04d}3{seq + 1:05d}U {code}"
        + _amount(paid.interest_cents if paid else 0)
        + "0" * 45
        + _amount(paid.amount_cents if paid else 0)
        + _amount(paid.amount_cents - fee if paid else 0)
        + "0" * 30
        + _dmy(occurred)
        + _dmy(paid.credited_on if paid else None)
        + " " * 87
    )
    return [t, u]


def _headers(file_header: str, lot_header: str) -> tuple[str, str]:
    """A remessa's file and lot headers turned into a retorno's (code 2, operation T)."""
    return file_header[:142] + "2" + file_header[143:], lot_header[:8] + "T" + lot_header[9:]


def _lot_trailer(bank: str, lot: int, details: int) -> str:
    return f"{bank}{lot:04d}5" + " " * 9 + f"{details + 2:06d}" + " " * 217


def _file_trailer(bank: str, lots: int, records: int) -> str:
    return f"{bank}99999" + " " * 9 + f"{lots:06d}{records:06d}" + " " * 211


def _trailers(bank: str, details: int) -> tuple[str, str]:
    return _lot_trailer(bank, 1, details), _file_trailer(bank, 1, details + 4)


def envelope(remessa: Sequence[str], details: list[str]) -> list[str]:
    """A retorno's headers and trailers around `details`, taken from a remessa's."""
    header, lot_header = _headers(remessa[0], remessa[1])
    lot_trailer, trailer = _trailers(remessa[0][:3], len(details))
    return [header, lot_header, *details, lot_trailer, trailer]


def titles_of(remessa: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(segment P, segment Q) of each title of a remessa, in file order."""
    p: str | None = None
    for line in remessa:
        if line[7:8] != "3":
            continue
        if line[13] == "P":
            p = line
        elif line[13] == "Q" and p is not None:
            yield p, line
            p = None


def retorno_for(
    remessa: Sequence[str], outcomes: Mapping[int, Result], unknown: Sequence[str] = ()
) -> list[str]:
    """The retorno a bank could send for `remessa`: `outcomes` by title index (0-based), then
    a paid title for each segment P account and nosso número block (positions 18-57) in
    `unknown`."""
    bank = remessa[0][:3]
    titles = list(titles_of(remessa))
    details: list[str] = []
    for index, result in sorted(outcomes.items()):
        p, q = titles[index]
        details += pair(bank, len(details) + 1, p, q, result)
    for block in unknown:
        p = titles[0][0][:17] + block + titles[0][0][57:]
        details += pair(bank, len(details) + 1, p, titles[0][1], Paid(500, PAID_ON, CREDITED_ON))
    return envelope(remessa, details)


# G038: a detail's number in its lot has five digits; a pair never straddles two lots.
MAX_DETAILS_PER_LOT = 99_998
# The file trailer counts records in six digits: about 500,000 occurrences fit one file, so a
# bank reports a day of a million titles in several files.
MAX_RECORDS_PER_FILE = 999_999


def retorno_records(
    file_header: str, lot_header: str, details: Iterable[tuple[str, str, Result]]
) -> Iterator[str]:
    """A retorno's records one by one, from each title's (segment P, segment Q, result), in
    as many lots as the details need: the streaming form of retorno_for, for files too large
    to build as a list. Raises ValueError past the records one file can count."""
    bank = file_header[:3]
    header, lot_head = _headers(file_header, lot_header)
    yield header
    lot, in_lot, records = 0, 0, 1
    for p, q, result in details:
        if lot == 0 or in_lot == MAX_DETAILS_PER_LOT:
            if lot:
                yield _lot_trailer(bank, lot, in_lot)
                records += 1
            lot, in_lot = lot + 1, 0
            yield lot_head[:3] + f"{lot:04d}" + lot_head[7:]
            records += 1
        yield from pair(bank, in_lot + 1, p, q, result, lot)
        in_lot += 2
        records += 2
        if records > MAX_RECORDS_PER_FILE - 2:
            raise ValueError(f"more than {MAX_RECORDS_PER_FILE} records for one retorno")
    if lot == 0:
        yield lot_head
        lot, records = 1, 2
    yield _lot_trailer(bank, lot, in_lot)
    yield _file_trailer(bank, lot, records + 2)


def face_value(p: str) -> int:
    """The amount a segment P charges, in centavos (positions 86-100)."""
    return int(p[85:100])


def nosso_numero_of(p: str) -> str:
    """The nosso número of a segment P, as printed on the boleto."""
    bank = cnab_bank_for(p[:3])
    return bank.retorno_nosso_numero((p[:17] + bank.retorno_title_block(p)).ljust(RECORD_LENGTH))


@dataclass(frozen=True)
class BankDay:
    """What the bank did with a remessa's titles, by index in the file (0-based).

    Every title not rejected is confirmed (02) when `register` is set; each title in `paid`
    is then paid (06), for the amount given or, with None, for its face value; rejected
    titles get a 03 with their reasons. `unknown` are nosso números of the same account that
    no title of the remessa has, each reported paid: lines a service cannot match."""

    paid: Mapping[int, int | None]
    rejected: Mapping[int, tuple[str, ...]]
    unknown: Sequence[str] = ()
    register: bool = True
    paid_on: date = PAID_ON
    credited_on: date = CREDITED_ON
    fee_cents: int = 0

    def results(self, index: int, p: str) -> list[Result]:
        if index in self.rejected:
            return [Rejected(self.rejected[index])]
        results: list[Result] = [Registered()] if self.register else []
        if index in self.paid:
            amount = self.paid[index]
            paid = face_value(p) if amount is None else amount
            results.append(Paid(paid, self.paid_on, self.credited_on, self.fee_cents))
        return results


def simulate(remessa_text: str, day: BankDay) -> str:
    """The retorno text (CRLF records) the bank sends back for `remessa_text` after `day`."""
    lines = [line for line in remessa_text.splitlines() if line]
    titles = list(titles_of(lines))

    def details() -> Iterator[tuple[str, str, Result]]:
        for index, (p, q) in enumerate(titles):
            for result in day.results(index, p):
                yield p, q, result
        bank = cnab_bank_for(lines[0][:3])
        for nosso in day.unknown:
            p, q = titles[0]
            other = p[:17] + bank.nosso_numero_block(p, nosso) + p[57:]
            yield other, q, Paid(face_value(p), day.paid_on, day.credited_on, day.fee_cents)

    return "".join(f"{r}\r\n" for r in retorno_records(lines[0], lines[1], details()))
