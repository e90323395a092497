"""What the local bank decides for each title a remessa asks it to register: a pure function of
the file, so the same remessa always gets the same retorno and a demo can be repeated.

- **Rejected** (03), with the bank's own motivos (`CnabBank.reason_code`; FEBRABAN's 46 and 48,
  Itaú's 37, 03 and 11), when segment Q names a payer the bank would not take:
  - the tipo de inscrição is neither 1 (CPF) nor 2 (CNPJ), or the number fails its check
    digits or is one digit repeated;
  - the CEP is not eight digits, or no post office uses it: one digit repeated (00000000,
    99999999) or below 01000-000, where Brazil's CEPs begin (São Paulo's). Whether a CEP
    matches the payer's UF (FEBRABAN's 51) is not checked.
- **Registered** (02): every other entry.
- **Paid** (06), after its registration, for its face value on its due date, credited the next
  weekday without a fee: a share of the titles (DEFAULT_PAID_SHARE), picked by a hash of the
  nosso número, so the same titles are paid in every run.

- **Instructions** (baixa, new due date, abatimento): carried out, answered with the bank's
  own code for each (BB's 09, 14 and 12, say).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from boleto_service.domain.cnab240 import (
    RECORD_LENGTH,
    CnabBank,
    Movement,
    PayerProblem,
    cnab_bank_for,
)
from boleto_service.domain.cnpj import cnpj_problem
from boleto_service.domain.errors import UnknownBank

from .retornos import (
    CarriedOut,
    Paid,
    Registered,
    Rejected,
    Result,
    face_value,
    nosso_numero_of,
    retorno_records,
    titles_of,
)

DEFAULT_PAID_SHARE = 0.3
# The lowest CEP in use: CEPs run from 01000-000 (São Paulo) to 99999-999.
LOWEST_CEP = 1_000_000


class NotARemessa(ValueError):
    """The file is not a CNAB 240 remessa of a bank this product knows."""


def payer_problems(q: str) -> list[PayerProblem]:
    """What a bank would refuse in segment Q's payer: its inscrição (18-33) and CEP (129-136)."""
    return problems_of(q[17], q[18:33], q[128:136])


def problems_of(kind: str, inscription: str, cep: str) -> list[PayerProblem]:
    """What a bank would refuse of a payer as segment Q writes it: tipo de inscrição (1 CPF,
    2 CNPJ), its number in 15 digits, and the CEP's 8 digits."""
    problems: list[PayerProblem] = []
    if not _valid_inscription(kind, inscription):
        problems.append(PayerProblem.INSCRIPTION)
    if not (cep.isascii() and cep.isdigit() and len(cep) == 8):
        problems.append(PayerProblem.CEP_NOT_NUMERIC)
    elif len(set(cep)) == 1 or int(cep) < LOWEST_CEP:
        problems.append(PayerProblem.CEP)
    return problems


def _valid_inscription(kind: str, number: str) -> bool:
    if not (number.isascii() and number.isdigit() and len(number) == 15):
        return False
    if kind == "1":
        return number[:4] == "0000" and _valid_cpf(number[4:])
    if kind == "2":
        return number[0] == "0" and cnpj_problem(number[1:]) is None
    return False


def _valid_cpf(cpf: str) -> bool:
    if len(set(cpf)) == 1:
        return False
    digits = [int(c) for c in cpf[:9]]
    for _ in range(2):
        # Weights run from len + 1 down to 2, so the second DV also weighs the first.
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return cpf[9:] == f"{digits[9]}{digits[10]}"


def is_paid(nosso_numero: str, paid_share: float) -> bool:
    """Whether the bank reports the title paid: the nosso número's SHA-256, read as a fraction
    of one, falls below the share. Stable across runs and machines, unlike hash()."""
    digest = hashlib.sha256(nosso_numero.encode()).digest()
    return int.from_bytes(digest[:8], "big") < paid_share * 2**64


def next_weekday(day: date) -> date:
    following = day + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following


def due_date_of(p: str) -> date:
    """Segment P's vencimento (78-85, DDMMYYYY)."""
    return datetime.strptime(p[77:85], "%d%m%Y").date()


# What the bank's retorno calls an instruction carried out (retorno.Outcome names).
_CARRIED_OUT = {
    Movement.WRITE_OFF: "WRITTEN_OFF",
    Movement.DUE_DATE: "DUE_DATE_CHANGED",
    Movement.REBATE: "REBATE_GRANTED",
}


def answer_code(bank: CnabBank, movement: Movement) -> str | None:
    """The bank's occurrence code confirming an instruction, from its own table."""
    wanted = _CARRIED_OUT[movement]
    return next(
        (c for c in (f"{n:02d}" for n in range(100)) if bank.outcome_name(c) == wanted), None
    )


def decide(bank: CnabBank, p: str, q: str, paid_share: float = DEFAULT_PAID_SHARE) -> list[Result]:
    """Every occurrence the bank reports for one title, in order."""
    movement = p[15:17]
    if movement != bank.movement_code(Movement.ENTRY):
        for instruction in _CARRIED_OUT:
            if movement == bank.movement_code(instruction):
                code = answer_code(bank, instruction)
                return [CarriedOut(code)] if code else []
        return []
    problems = payer_problems(q)
    if problems:
        # One motivo per code, as a bank lists each reason once.
        reasons = tuple(dict.fromkeys(bank.reason_code(problem) for problem in problems))
        return [Rejected(reasons[: bank.reason_slots])]
    results: list[Result] = [Registered()]
    if is_paid(nosso_numero_of(p), paid_share):
        due = due_date_of(p)
        results.append(Paid(face_value(p), due, next_weekday(due)))
    return results


@dataclass
class Answer:
    """A remessa's retorno and what it says, in counts (never who)."""

    text: str = ""
    bank_code: str = ""
    titles: int = 0
    registered: int = 0
    rejected: int = 0
    paid: int = 0
    paid_cents: int = 0
    # Instructions (baixa, new due date, abatimento) carried out.
    instructions: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def answer(remessa_text: str, paid_share: float = DEFAULT_PAID_SHARE) -> Answer:
    """The retorno (CRLF records) the bank sends for `remessa_text`, with its counts. Raises
    NotARemessa for anything else, an unknown bank's file included."""
    if not 0 <= paid_share <= 1:
        raise ValueError(f"the paid share is a fraction from 0 to 1, got {paid_share}")
    lines = [line for line in remessa_text.splitlines() if line]
    if len(lines) < 4 or any(len(line) != RECORD_LENGTH for line in lines):
        raise NotARemessa(f"not CNAB 240: records are {RECORD_LENGTH} characters, four at least")
    header = lines[0]
    if header[7] != "0" or header[142] != "1" or lines[1][8] != "R":
        raise NotARemessa("not a remessa: its header says another kind of file")
    try:
        bank = cnab_bank_for(header[:3])
    except UnknownBank as exc:
        raise NotARemessa(str(exc)) from exc
    summary = Answer(bank_code=bank.code)

    def details() -> Iterator[tuple[str, str, Result]]:
        for p, q in titles_of(lines):
            summary.titles += 1
            for result in decide(bank, p, q, paid_share):
                if isinstance(result, Registered):
                    summary.registered += 1
                elif isinstance(result, Rejected):
                    summary.rejected += 1
                    summary.reasons.update(result.reasons)
                elif isinstance(result, Paid):
                    summary.paid += 1
                    summary.paid_cents += result.amount_cents
                elif isinstance(result, CarriedOut):
                    summary.instructions += 1
                yield p, q, result

    try:
        records = list(retorno_records(header, lines[1], details()))
    except ValueError:
        # Not the error's text: it may quote a payer's name from a record that did not fit.
        raise NotARemessa(
            "cannot be answered: a title's records are malformed, or more than one retorno "
            "can count"
        ) from None
    summary.text = "".join(f"{record}\r\n" for record in records)
    return summary
