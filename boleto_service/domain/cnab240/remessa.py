"""The CNAB 240 remessa: the file that asks the bank to register a list of boletos.

One file, one lot (service 01 cobrança, operation R) and, for every title, a segment P (the
title), a segment Q (the payer) and, only when the title has a fine, a segment R (FEBRABAN puts
the multa there). Fields are where FEBRABAN puts them unless the bank's `CnabBank` says otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum
from typing import NamedTuple

from ..beneficiary import BeneficiaryConfig
from ..boleto import Boleto, PayerAddress
from ..errors import BoletoDomainError, Problem
from ..money import MAX_AMOUNT_CENTS
from .bank import CnabBank, Movement
from .banks import cnab_bank_for
from .fields import (
    Part,
    RecordTemplate,
    TemplatePart,
    alpha,
    blanks,
    build_record,
    ddmmyyyy,
    fold,
    given,
    num,
    number,
    text,
    zeros,
)

MAX_NSA = 999_999
# G038: a detail record's number in its lot has 5 digits. Tighter than the 6-digit record
# counts of the trailers, so it is what bounds the titles one file can carry.
MAX_DETAILS_PER_LOT = 99_999
# P and Q for every title, R for one with a fine.
MAX_SEGMENTS_PER_TITLE = 3


def max_titles_per_file(segments_per_title: int = MAX_SEGMENTS_PER_TITLE) -> int:
    """The most titles one remessa can number when each takes `segments_per_title` records."""
    if segments_per_title < 1:
        raise ValueError(f"a title takes at least one segment, got {segments_per_title}")
    return MAX_DETAILS_PER_LOT // segments_per_title


class InvalidRemessa(BoletoDomainError):
    """Titles or a header a bank would refuse; `problems` lists every reason at once."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        super().__init__("invalid remessa: " + "; ".join(p.text for p in problems))
        self.problems = problems


class PayerIdKind(IntEnum):
    """FEBRABAN G005 codes. OTHER cannot be registered: the banks demand a CPF or CNPJ."""

    CPF = 1
    CNPJ = 2
    OTHER = 9


# Titles and payers are tuples: a cut makes one of each for every boleto it reads, and a tuple
# is made four times faster than a frozen dataclass.
class RemessaPayer(NamedTuple):
    name: str
    id_kind: PayerIdKind
    id_number: str
    # Without one segment Q would carry blanks and a zero CEP, which banks reject (BB "CEP
    # inválido: registro recusado", Itaú motivos 03, 10, 11): such a title is left out.
    address: PayerAddress | None = None


class RemessaTitle(NamedTuple):
    nosso_numero: str  # exactly as IssuedBoleto.nosso_numero prints it
    # "Seu número": the boleto's sequence, since the 36-character debt id fits none of the banks'
    # 10 to 15 positions. Also written to "uso da empresa" (P 196-220), which the banks return
    # unchanged in segment T.
    document_number: str
    due_date: date
    amount_cents: int
    issue_date: date
    payer: RemessaPayer
    fine_percent: Decimal | None = None  # two decimals at most
    fine_date: date | None = None  # default: the bank's (CnabBank.default_fine_date)
    daily_interest_cents: int = 0
    movement: Movement = Movement.ENTRY
    # Abatimento: what a REBATE movement grants, or one granted with the entry.
    rebate_cents: int = 0
    # Desconto of a fixed value for payment up to and including `discount_until`.
    discount_cents: int = 0
    discount_until: date | None = None


@dataclass(frozen=True, slots=True)
class RemessaHeader:
    beneficiary: BeneficiaryConfig
    nsa: int  # número sequencial do arquivo, one more for every file sent
    generated_at: datetime
    # The agência's check digit: BB, Caixa and Santander write it, Bradesco computes it when
    # empty and Sicoob checks it against the one it computes; Itaú and Sicredi have none.
    agencia_dv: str = ""
    variacao_carteira: str = ""  # BB only: the carteira's variação, e.g. "019"
    # BB's lot header says "TS" and Caixa's file header "REMESSA-TESTE"; Bradesco and Sicredi
    # refuse it, as they tell test files apart outside the file.
    test_file: bool = False


def payer_id_kind(government_id_kind: int) -> PayerIdKind:
    """boletos.v1.GovernmentIdKind: 2 CPF, 3 CNPJ, anything else is not a registrable id."""
    return _REGISTRABLE_IDS.get(government_id_kind, PayerIdKind.OTHER)


_REGISTRABLE_IDS = {2: PayerIdKind.CPF, 3: PayerIdKind.CNPJ}


def title_from_boleto(boleto: Boleto) -> RemessaTitle:
    """A stored boleto as a remessa title: its sequence is the seu número.

    The boleto's amount already includes any overdue fine and interest, so no multa or mora
    is registered for it (the bank would charge them twice).
    """
    kind = payer_id_kind(boleto.payer.government_id_kind)
    discount = boleto.offered_discount
    return RemessaTitle(
        nosso_numero=boleto.numbers.nosso_numero,
        document_number=str(boleto.sequence),
        due_date=boleto.due_date,
        amount_cents=boleto.amount_cents,
        issue_date=boleto.issue_date,
        payer=RemessaPayer(
            boleto.payer.name, kind, boleto.payer.government_id, boleto.payer.address
        ),
        discount_cents=discount.cents if discount else 0,
        discount_until=discount.until if discount else None,
    )


class RemessaDetails:
    """The lot's detail records (segments P, Q and R), made title by title as each is checked.

    Details follow from the beneficiary and the titles alone, never from the file's NSA or
    generation time, so a cut makes them while it takes its titles, before its file is
    numbered, and checks each title once. `lines` then puts the headers and trailers of the
    file around them.
    """

    def __init__(self, header: RemessaHeader) -> None:
        self.header = header
        self.bank = cnab_bank_for(header.beneficiary.bank_code)
        self.records: list[str] = []
        self.titles = 0
        self.amount_cents = 0
        self._segments = _Details(self.bank, header)
        self._seen: set[str] = set()

    @classmethod
    def of(cls, header: RemessaHeader, titles: Sequence[RemessaTitle]) -> RemessaDetails:
        """Every title's records; InvalidRemessa naming every refused title at once."""
        details = cls(header)
        problems: list[Problem] = []
        for index, title in enumerate(titles, start=1):
            found = details.add(title)
            if found:
                where = f"title {index} ({title.nosso_numero})"
                problems.extend(Problem(p.field, f"{where}: {p.text}") for p in found)
        if problems:
            raise InvalidRemessa(tuple(problems))
        return details

    def add(self, title: RemessaTitle) -> list[Problem]:
        """Adds the title's records, or leaves it out and says why the bank would refuse it."""
        problems = title_problems(self.bank, self.header, title)
        if title.nosso_numero in self._seen:
            problems.append(Problem("nosso_numero", "appears twice in this remessa"))
        if problems:
            return problems
        self._seen.add(title.nosso_numero)
        segments, records = self._segments, self.records
        records.append(segments.segment_p(title, len(records) + 1))
        records.append(segments.segment_q(title, len(records) + 1))
        if title.fine_percent is not None:
            records.append(segments.segment_r(title, len(records) + 1))
        self.titles += 1
        self.amount_cents += title.amount_cents
        return problems

    def lines(self, header: RemessaHeader) -> list[str]:
        """Every record of the file numbered and dated by `header`, 240 ASCII characters
        each, without line terminators."""
        if replace(header, nsa=self.header.nsa, generated_at=self.header.generated_at) != (
            self.header
        ):
            raise ValueError("the details were made for another beneficiary or account")
        bank = self.bank
        problems = _file_problems(bank, header, self.titles)
        if problems:
            raise InvalidRemessa(tuple(problems))
        lot_records = len(self.records) + 2
        return [
            _file_header(bank, header),
            _lot_header(bank, header),
            *self.records,
            _lot_trailer(bank, lot_records, self.titles, self.amount_cents),
            _file_trailer(bank, lot_records + 2),
        ]

    def text(self, header: RemessaHeader) -> str:
        """The file as banks take it: CRLF after every record, the last one included."""
        return _crlf(self.lines(header))


def remessa_lines(header: RemessaHeader, titles: Sequence[RemessaTitle]) -> list[str]:
    """Every record of the file, 240 ASCII characters each, without line terminators;
    InvalidRemessa when the bank would refuse the header or any title."""
    try:
        details = RemessaDetails.of(header, titles)
    except InvalidRemessa as refused:
        bank = cnab_bank_for(header.beneficiary.bank_code)
        # Every reason at once: the file's too.
        problems = _file_problems(bank, header, len(titles))
        raise InvalidRemessa((*problems, *refused.problems)) from None
    return details.lines(header)


def remessa_text(header: RemessaHeader, titles: Sequence[RemessaTitle]) -> str:
    """The file as banks take it: CRLF after every record, the last one included."""
    return _crlf(remessa_lines(header, titles))


def _crlf(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


def _file_problems(bank: CnabBank, header: RemessaHeader, titles: int) -> list[Problem]:
    problems = list(bank.header_problems(header))
    if not 1 <= header.nsa <= MAX_NSA:
        problems.append(Problem("nsa", f"NSA must be 1..{MAX_NSA}, got {header.nsa}"))
    if not titles:
        problems.append(Problem("titles", "a remessa needs at least one title"))
    return problems


def title_problems(bank: CnabBank, header: RemessaHeader, title: RemessaTitle) -> list[Problem]:
    """Why the header's bank would refuse this one title; empty when it would take it. Run
    for every title of every file, so the common path stays short."""
    problems: list[Problem] = []
    issue = bank.nosso_numero_problem(header, title.nosso_numero)
    if issue:
        problems.append(Problem("nosso_numero", issue))
    doc = title.document_number
    if not doc.strip() or len(doc) > bank.document_number_width:
        problems.append(
            Problem("document_number", f"must be 1 to {bank.document_number_width} characters")
        )
    amount = title.amount_cents
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int)
        or not 0 < amount <= MAX_AMOUNT_CENTS
    ):
        problems.append(
            Problem(
                "amount_cents",
                f"must be a positive int within the barcode's range, got {amount!r}",
            )
        )
    if title.issue_date > title.due_date:
        problems.append(Problem("issue_date", "is after the due date, which the banks refuse"))
    problems.extend(_payer_problems(title.payer))
    if title.daily_interest_cents < 0:
        problems.append(Problem("daily_interest_cents", "cannot be negative"))
    rebate, discount = title.rebate_cents, title.discount_cents
    # Most titles have neither: int zeros (a bool or float is checked below), no date, an entry.
    if (
        type(rebate) is not int
        or type(discount) is not int
        or rebate
        or discount
        or title.discount_until is not None
        or title.movement is Movement.REBATE
    ):
        problems.extend(_deduction_problems(title))
    percent = title.fine_percent
    if percent is not None and (
        not isinstance(percent, Decimal)
        or not percent.is_finite()
        or percent <= 0
        or percent != percent.quantize(Decimal("0.01"))
    ):
        problems.append(
            Problem(
                "fine_percent", f"must be a positive Decimal with two decimals, got {percent!r}"
            )
        )
    return problems


_ID_WIDTHS = {PayerIdKind.CPF: 11, PayerIdKind.CNPJ: 14}


def _payer_problems(payer: RemessaPayer) -> list[Problem]:
    problems: list[Problem] = []
    width = _ID_WIDTHS.get(payer.id_kind)
    id_number = payer.id_number
    if width is None:
        problems.append(
            Problem("payer", "the payer has no CPF or CNPJ, which registered boletos require")
        )
    elif not (id_number.isascii() and id_number.isdigit() and len(id_number) == width):
        problems.append(
            Problem("payer", f"{payer.id_kind.name} must have {width} digits, got {id_number!r}")
        )
    if not payer.name.strip():
        problems.append(Problem("payer", "the payer's name is empty"))
    address = payer.address
    if address is None:
        problems.append(
            Problem("address", "the payer has no address, which registered boletos require")
        )
    elif not (address.cep.isascii() and address.cep.isdigit() and len(address.cep) == 8):
        problems.append(Problem("address", f"CEP must have 8 digits, got {address.cep!r}"))
    elif not (address.street.strip() and address.city.strip() and len(address.uf) == 2):
        problems.append(Problem("address", "the payer's address needs a street, a city and a UF"))
    return problems


def _deduction_problems(title: RemessaTitle) -> list[Problem]:
    """A discount or rebate the banks would refuse (FEBRABAN C047: 28-36)."""
    problems: list[Problem] = []
    amount = title.amount_cents
    for field, value in (
        ("rebate_cents", title.rebate_cents),
        ("discount_cents", title.discount_cents),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(Problem(field, f"must be a non-negative int, got {value!r}"))
        elif value and isinstance(amount, int) and value >= amount:
            problems.append(Problem(field, f"{value} is not less than the title's {amount}"))
    if title.movement is Movement.REBATE and title.rebate_cents == 0:
        problems.append(Problem("rebate_cents", "a rebate movement needs the amount to grant"))
    until = title.discount_until
    if title.discount_cents and until is None:
        problems.append(Problem("discount_until", "a discount needs the last day it applies"))
    elif until is not None and not title.discount_cents:
        problems.append(Problem("discount_until", "is set but there is no discount"))
    elif until is not None and not title.issue_date <= until <= title.due_date:
        problems.append(Problem("discount_until", "must be from the issue date to the due date"))
    return problems


def _file_header(bank: CnabBank, header: RemessaHeader) -> str:
    config = header.beneficiary
    parts: list[Part] = [
        (1, 3, bank.code),
        (4, 7, "0000"),
        (8, 8, "0"),
        (9, 32, bank.file_header_inscription(header)),
        (33, 72, bank.company_block(header, in_lot=False)),
        (73, 102, alpha(config.name, 30)),
        (103, 132, alpha(bank.file_name, 30)),
        (133, 142, blanks(10)),
        (143, 143, "1"),  # remessa
        (144, 151, header.generated_at.strftime("%d%m%Y")),
        (152, 157, bank.generation_time(header)),
        (158, 163, num(header.nsa, 6, "NSA")),
        (164, 166, bank.file_layout),
        (167, 171, bank.density),
        (172, 240, bank.file_header_tail(header)),
    ]
    return build_record(parts)


def _lot_header(bank: CnabBank, header: RemessaHeader) -> str:
    config = header.beneficiary
    parts: list[Part] = [
        (1, 3, bank.code),
        (4, 7, "0001"),
        (8, 8, "1"),
        (9, 9, "R"),
        (10, 11, "01"),  # cobrança
        (12, 13, bank.lot_header_12_13),
        (14, 16, bank.lot_layout),
        (17, 17, blanks(1)),
        (18, 18, "2"),
        (19, 33, num(config.cnpj, 15, "CNPJ")),
        (34, 73, bank.company_block(header, in_lot=True)),
        (74, 103, alpha(config.name, 30)),
        (104, 183, blanks(80)),  # mensagens 1 and 2: the PDF carries the instructions
        (184, 191, num(header.nsa, 8, "NSA")),
        (192, 199, header.generated_at.strftime("%d%m%Y")),
        (200, 207, bank.lot_header_200_207),
        (208, 240, blanks(33)),
    ]
    return build_record(parts)


class _Details:
    """Segments P, Q and R of one file: what the bank and the header fix, checked and joined
    once; each title's own fields filled in."""

    def __init__(self, bank: CnabBank, header: RemessaHeader) -> None:
        self.bank = bank
        account, registration = bank.title_block_around(header)
        doc_width = bank.document_number_width
        name_width = bank.payer_name_width
        self.movements = {movement: bank.movement_code(movement) for movement in Movement}
        self.p = RecordTemplate([
            *self._start(bank, "P"),
            (18, 17 + len(account), account),
            (18 + len(account), 62 - len(registration), given("nosso_numero")),
            (63 - len(registration), 62, registration),
            (63, 62 + doc_width, text("document_number")),
            (63 + doc_width, 77, blanks(15 - doc_width)),
            (78, 85, given("due_date")),
            (86, 100, number("amount")),
            (101, 105, zeros(5)),  # agência cobradora: the bank picks it from the payer's CEP
            (106, 106, bank.collecting_agency_dv),
            (107, 108, bank.especie),
            (109, 109, "N"),  # não aceite
            (110, 117, given("issue_date")),
            (118, 118, given("interest_code")),
            (119, 126, given("interest_start")),
            (127, 141, number("interest")),
            # C021 code 1: a fixed value off for payment up to the date; 0: no discount.
            (142, 142, given("discount_code")),
            (143, 150, given("discount_until")),
            (151, 165, number("discount")),
            (166, 180, zeros(15)),  # IOF
            (181, 195, number("rebate")),
            (196, 220, text("document_number")),
            (221, 221, bank.no_protest_code),
            (222, 223, zeros(2)),
            (224, 240, bank.title_tail()),
        ], _P_SLOTS)  # fmt: skip
        # An entry with no interest, discount or rebate, as nearly every title is: those
        # fields filled as segment_p fills them for zeros.
        self.plain_p = self.p.fixed({
            "movement": self.movements[Movement.ENTRY],
            "interest_code": bank.interest_code(0),
            "interest_start": ddmmyyyy(None),
            "interest": 0,
            "discount_code": "0",
            "discount_until": ddmmyyyy(None),
            "discount": 0,
            "rebate": 0,
        })  # fmt: skip
        self.q = RecordTemplate([
            *self._start(bank, "Q"),
            (18, 18, given("id_kind")),
            (19, 33, number("id_number")),
            (34, 33 + name_width, text("name")),
            (34 + name_width, 73, blanks(40 - name_width)),
            (74, 113, text("street")),
            (114, 128, text("district")),
            (129, 133, number("cep")),
            (134, 136, number("cep_suffix")),
            (137, 151, text("city")),
            (152, 153, text("uf")),
            (154, 154, "0"),  # no sacador/avalista
            (155, 169, zeros(15)),
            (170, 209, blanks(40)),
            (210, 212, zeros(3)),  # banco correspondente
            (213, 240, bank.segment_q_213_240),
        ], _Q_SLOTS)  # fmt: skip
        self.r = RecordTemplate([
            *self._start(bank, "R"),
            (18, 18, "0"),  # second discount: none
            (19, 26, zeros(8)),
            (27, 41, zeros(15)),
            (42, 65, bank.segment_r_42_65),
            (66, 66, "2"),  # multa as a percentage
            (67, 74, given("fine_date")),
            (75, 89, number("fine")),
            (90, 199, blanks(110)),  # messages to the payer
            (200, 240, bank.segment_r_200_240),
        ], _R_SLOTS)  # fmt: skip

    @staticmethod
    def _start(bank: CnabBank, segment: str) -> list[TemplatePart]:
        return [
            (1, 3, bank.code),
            (4, 7, "0001"),
            (8, 8, "3"),
            (9, 13, number("record")),
            (14, 14, segment),
            (15, 15, blanks(1)),
            (16, 17, given("movement")),
        ]

    def segment_p(self, title: RemessaTitle, record: int) -> str:
        if title.movement is Movement.ENTRY and not (
            title.daily_interest_cents or title.discount_cents or title.rebate_cents
        ):
            document = fold(title.document_number)
            return self.plain_p.fill((
                record,
                self.bank.nosso_numero_field(title.nosso_numero),
                document,
                ddmmyyyy(title.due_date),
                title.amount_cents,
                ddmmyyyy(title.issue_date),
                document,
            ))  # fmt: skip
        return self.p.fill(self.p_values(title, record))

    def p_values(self, title: RemessaTitle, record: int) -> tuple[object, ...]:
        """Segment P's slots for any title, in _P_SLOTS' order (plain_p's are these for a
        plain entry)."""
        bank = self.bank
        interest = title.daily_interest_cents
        discount = title.discount_cents
        document = fold(title.document_number)
        return (
            record,
            self.movements[title.movement],
            bank.nosso_numero_field(title.nosso_numero),
            document,
            ddmmyyyy(title.due_date),
            title.amount_cents,
            ddmmyyyy(title.issue_date),
            bank.interest_code(interest),
            ddmmyyyy(bank.interest_start(title.due_date) if interest else None),
            interest,
            "1" if discount else "0",
            ddmmyyyy(title.discount_until if discount else None),
            discount,
            title.rebate_cents,
            document,
        )  # fmt: skip

    def segment_q(self, title: RemessaTitle, record: int) -> str:
        payer = title.payer
        address = payer.address or _NO_ADDRESS
        cep = address.cep
        return self.q.fill((
            record,
            self.movements[title.movement],
            _ID_KINDS[payer.id_kind],
            # Digits: RemessaDetails.add checked the title (title_problems) first.
            int(payer.id_number),
            fold(payer.name),
            fold(address.street),
            fold(address.district),
            int(cep[:5]),
            int(cep[5:]),
            fold(address.city),
            fold(address.uf),
        ))  # fmt: skip

    def segment_r(self, title: RemessaTitle, record: int) -> str:
        percent = title.fine_percent or Decimal(0)
        fine_date = title.fine_date or self.bank.default_fine_date(title.due_date)
        return self.r.fill((
            record,
            self.movements[title.movement],
            ddmmyyyy(fine_date),
            int(percent.scaleb(2)),
        ))  # fmt: skip


# The slots of each segment, in the order its method fills them.
_P_SLOTS = (
    "record", "movement", "nosso_numero", "document_number", "due_date", "amount", "issue_date",
    "interest_code", "interest_start", "interest", "discount_code", "discount_until", "discount",
    "rebate", "document_number",
)  # fmt: skip
_Q_SLOTS = (
    "record", "movement", "id_kind", "id_number", "name", "street", "district", "cep",
    "cep_suffix", "city", "uf",
)  # fmt: skip
_R_SLOTS = ("record", "movement", "fine_date", "fine")
_ID_KINDS = {kind: str(int(kind)) for kind in PayerIdKind}

_NO_ADDRESS = PayerAddress("", "", "00000000", "", "")


def _lot_trailer(bank: CnabBank, records: int, titles: int, total: int) -> str:
    body: list[Part] = [(24, 240, blanks(217))]
    if bank.writes_lot_totals:
        # Every title of this product is cobrança simples; vinculada stays at zero.
        body = [
            (24, 29, num(titles, 6, "titles")),
            (30, 46, num(total, 17, "total")),
            (47, 69, zeros(23)),  # cobrança vinculada: count and value
            (70, 92, zeros(23)),  # cobrança caucionada
            (93, 115, bank.lot_trailer_93_115),
            (116, 123, blanks(8)),  # aviso bancário: the bank's
            (124, 240, blanks(117)),
        ]
    parts: list[Part] = [
        (1, 3, bank.code),
        (4, 7, "0001"),
        (8, 8, "5"),
        (9, 17, blanks(9)),
        (18, 23, num(records, 6, "records in lot")),
        *body,
    ]
    return build_record(parts)


def _file_trailer(bank: CnabBank, records: int) -> str:
    parts: list[Part] = [
        (1, 3, bank.code),
        (4, 7, "9999"),
        (8, 8, "9"),
        (9, 17, blanks(9)),
        (18, 23, "000001"),  # one lot
        (24, 29, num(records, 6, "records in file")),
        (30, 35, bank.file_trailer_30_35),
        (36, 240, blanks(205)),
    ]
    return build_record(parts)
