"""The local bank's decisions: who it rejects and with which bank's motivo, whom it registers,
and which titles it pays, when and for how much; read back through the service's own retorno
reader."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest

from boleto_service.domain.cnab240 import (
    CNAB_BANKS,
    Movement,
    Outcome,
    PayerAddress,
    PayerIdKind,
    PayerProblem,
    RemessaHeader,
    RemessaPayer,
    RemessaTitle,
    cnab_bank_for,
    parse_retorno,
    remessa_text,
)
from boletos_cli.bank import (
    NotARemessa,
    answer,
    answer_remessa,
    is_paid,
    mark_sent,
    payer_problems,
    problems_of,
    retorno_name,
    unanswered,
    unsent,
)
from boletos_cli.bank.decisions import next_weekday
from tests.unit.boleto.banks import (
    test_bradesco,
    test_caixa,
    test_santander,
    test_sicoob,
    test_sicredi,
)
from tests.unit.boleto.test_cnab240_remessa import BB_HEADER, BB_TITLES, ITAU_HEADER, ITAU_TITLES

# Each bank's remessa header and two titles it takes: a CPF payer, then a CNPJ one.
REMESSAS: dict[str, tuple[RemessaHeader, list[RemessaTitle]]] = {
    header.beneficiary.bank_code: (header, titles)
    for header, titles in [
        (BB_HEADER, BB_TITLES),
        (ITAU_HEADER, ITAU_TITLES),
        (test_bradesco.HEADER, test_bradesco.TITLES),
        (test_caixa.HEADER, test_caixa.TITLES),
        (test_santander.HEADER, test_santander.TITLES),
        (test_sicoob.HEADER, test_sicoob.TITLES),
        (test_sicredi.HEADER, test_sicredi.TITLES),
    ]
}
VALID_CPF = "52998224725"
WRONG_CPF = "52998224724"  # last check digit off by one
VALID_CEP = "01310100"
# Below 01000-000, where Brazil's CEPs begin; eight digits, so the remessa writes it.
UNUSED_CEP = "00100000"


def _with_payer(title: RemessaTitle, *, cpf: str = VALID_CPF, cep: str = VALID_CEP) -> RemessaTitle:
    address = PayerAddress("Rua das Flores, 12", "Centro", cep, "São Paulo", "SP")
    return title._replace(payer=RemessaPayer("Ana Lima", PayerIdKind.CPF, cpf, address))


def _segment_q(kind: str, number: str, cep: str) -> str:
    """A segment Q with only what the bank checks filled in."""
    record = "0010001300002Q 01" + kind + number.rjust(15, "0") + " " * 95 + cep
    return record.ljust(240)


def test_every_bank_is_covered_here() -> None:
    assert set(REMESSAS) == set(CNAB_BANKS)


@pytest.mark.parametrize("code", sorted(CNAB_BANKS))
def test_each_bank_names_every_payer_problem_with_a_motivo_of_its_own_table(code: str) -> None:
    bank = CNAB_BANKS[code]
    for problem in PayerProblem:
        reason = bank.reason_code(problem)
        assert len(reason) == 2 and reason.isdigit()
        assert bank.reason_text(reason), (code, problem, reason)


def test_febraban_banks_say_46_and_48_and_itau_its_own_codes() -> None:
    for code in ("001", "104", "237", "033", "756", "748"):
        bank = cnab_bank_for(code)
        assert bank.reason_code(PayerProblem.INSCRIPTION) == "46"
        assert bank.reason_code(PayerProblem.CEP) == "48"
    itau = cnab_bank_for("341")
    assert itau.reason_code(PayerProblem.INSCRIPTION) == "37"
    assert itau.reason_code(PayerProblem.CEP) == "03"
    assert itau.reason_code(PayerProblem.CEP_NOT_NUMERIC) == "11"


@pytest.mark.parametrize(
    ("kind", "number", "expected"),
    [
        ("1", VALID_CPF, []),
        ("1", WRONG_CPF, [PayerProblem.INSCRIPTION]),
        ("1", "11111111111", [PayerProblem.INSCRIPTION]),  # passes the arithmetic, not a CPF
        ("1", "1" + VALID_CPF, [PayerProblem.INSCRIPTION]),  # a CPF is 11 digits, not 12
        ("2", "11444777000161", []),
        ("2", "11444777000162", [PayerProblem.INSCRIPTION]),
        ("2", VALID_CPF, [PayerProblem.INSCRIPTION]),  # a CPF said to be a CNPJ
        ("9", VALID_CPF, [PayerProblem.INSCRIPTION]),  # neither CPF nor CNPJ
        ("1", "00000000000", [PayerProblem.INSCRIPTION]),
    ],
)
def test_the_payers_inscription_must_pass_its_check_digits(
    kind: str, number: str, expected: list[PayerProblem]
) -> None:
    assert payer_problems(_segment_q(kind, number, VALID_CEP)) == expected


@pytest.mark.parametrize(
    ("cep", "expected"),
    [
        ("01000000", []),  # the lowest in use
        ("99999998", []),
        ("69020010", []),
        ("00999999", [PayerProblem.CEP]),
        ("00100000", [PayerProblem.CEP]),
        ("00000000", [PayerProblem.CEP]),
        ("99999999", [PayerProblem.CEP]),  # a placeholder
        ("0131010 ", [PayerProblem.CEP_NOT_NUMERIC]),
        ("        ", [PayerProblem.CEP_NOT_NUMERIC]),
    ],
)
def test_a_cep_no_post_office_uses_is_refused(cep: str, expected: list[PayerProblem]) -> None:
    assert payer_problems(_segment_q("1", VALID_CPF, cep)) == expected


def test_a_payer_wrong_twice_is_refused_for_both() -> None:
    assert problems_of("1", WRONG_CPF.zfill(15), "00000000") == [
        PayerProblem.INSCRIPTION,
        PayerProblem.CEP,
    ]


@pytest.mark.parametrize("code", sorted(REMESSAS))
def test_each_bank_rejects_a_bad_cpf_and_a_bad_cep_with_its_own_motivo(code: str) -> None:
    header, titles = REMESSAS[code]
    bad = [_with_payer(titles[0], cpf=WRONG_CPF), _with_payer(titles[1], cep=UNUSED_CEP)]

    result = answer(remessa_text(header, bad))

    retorno = parse_retorno(result.text)
    assert retorno.errors == () and retorno.unmatched == ()
    bank = cnab_bank_for(code)
    got = [(o.nosso_numero, o.outcome, [r.code for r in o.reasons]) for o in retorno.occurrences]
    assert got == [
        (bad[0].nosso_numero, Outcome.REJECTED, [bank.reason_code(PayerProblem.INSCRIPTION)]),
        (bad[1].nosso_numero, Outcome.REJECTED, [bank.reason_code(PayerProblem.CEP)]),
    ]
    assert all(r.text for o in retorno.occurrences for r in o.reasons)
    assert (result.titles, result.registered, result.rejected, result.paid) == (2, 0, 2, 0)
    assert result.reasons == {r.code: 1 for o in retorno.occurrences for r in o.reasons}


@pytest.mark.parametrize("code", sorted(REMESSAS))
def test_each_bank_registers_good_payers_and_pays_on_the_due_date_for_the_face_value(
    code: str,
) -> None:
    header, titles = REMESSAS[code]

    result = answer(remessa_text(header, titles), paid_share=1.0)

    retorno = parse_retorno(result.text)
    assert retorno.errors == () and retorno.unmatched == ()
    outcomes = [(o.nosso_numero, o.outcome) for o in retorno.occurrences]
    assert outcomes == [
        (titles[0].nosso_numero, Outcome.REGISTERED),
        (titles[0].nosso_numero, Outcome.PAID),
        (titles[1].nosso_numero, Outcome.REGISTERED),
        (titles[1].nosso_numero, Outcome.PAID),
    ]
    paid = [o for o in retorno.occurrences if o.outcome is Outcome.PAID]
    for title, occurrence in zip(titles, paid, strict=True):
        assert occurrence.paid_cents == title.amount_cents
        assert occurrence.occurrence_date == title.due_date
        assert occurrence.credit_date == next_weekday(title.due_date)
        assert occurrence.fee_cents == 0
    total = sum(t.amount_cents for t in titles)
    assert (result.registered, result.rejected, result.paid, result.paid_cents) == (2, 0, 2, total)


def test_with_no_paid_share_every_good_title_is_only_registered() -> None:
    retorno = parse_retorno(answer(remessa_text(BB_HEADER, BB_TITLES), paid_share=0.0).text)
    assert [o.outcome for o in retorno.occurrences] == [Outcome.REGISTERED] * 2


def test_the_paid_titles_are_a_stable_share_picked_by_nosso_numero() -> None:
    numbers = [f"1234567{n:010d}" for n in range(20_000)]
    picked = [n for n in numbers if is_paid(n, 0.3)]
    assert 0.28 < len(picked) / len(numbers) < 0.32
    # The same every time (no per-process hash seed), and a larger share only adds titles.
    assert picked == [n for n in numbers if is_paid(n, 0.3)]
    assert set(picked) <= {n for n in numbers if is_paid(n, 0.5)}
    assert not any(is_paid(n, 0.0) for n in numbers)
    assert all(is_paid(n, 1.0) for n in numbers)


def test_the_same_remessa_always_gets_the_same_retorno() -> None:
    text = remessa_text(BB_HEADER, BB_TITLES)
    assert answer(text).text == answer(text).text


def test_the_paid_share_follows_the_nosso_numero_in_a_real_file() -> None:
    titles = [
        BB_TITLES[0]._replace(nosso_numero=f"12345670000000{n:03d}", document_number=str(n))
        for n in range(1, 61)
    ]
    result = answer(remessa_text(BB_HEADER, titles), paid_share=0.3)
    paid = {
        o.nosso_numero for o in parse_retorno(result.text).occurrences if o.outcome is Outcome.PAID
    }
    assert paid == {t.nosso_numero for t in titles if is_paid(t.nosso_numero, 0.3)}
    assert 0 < len(paid) < 60 and result.paid == len(paid)


def test_the_credit_comes_the_next_weekday() -> None:
    assert next_weekday(date(2026, 12, 10)) == date(2026, 12, 11)  # Thursday
    assert next_weekday(date(2026, 12, 11)) == date(2026, 12, 14)  # Friday: Monday
    assert next_weekday(date(2026, 12, 12)) == date(2026, 12, 14)  # Saturday


@pytest.mark.parametrize(
    "text",
    [
        "",
        "name,governmentId\nAna,1234\n",
        # A retorno is the bank's answer, not a request to it.
        answer(remessa_text(BB_HEADER, BB_TITLES)).text,
        # A bank this product does not know.
        remessa_text(BB_HEADER, BB_TITLES).replace("001", "999", 1),
    ],
)
def test_anything_but_a_remessa_is_not_answered(text: str) -> None:
    with pytest.raises(NotARemessa):
        answer(text)


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="from 0 to 1"):
        answer(remessa_text(BB_HEADER, BB_TITLES), paid_share=1.5)


# --- the desk: files ------------------------------------------------------------------------


def test_a_retorno_is_written_private_once_and_its_sending_remembered(tmp_path: Path) -> None:
    remessas, retornos = tmp_path / "remessas", tmp_path / "out" / "retornos"
    remessas.mkdir()
    remessa = remessas / "001_1234_56789_000007.rem"
    remessa.write_bytes(remessa_text(BB_HEADER, BB_TITLES).encode("ascii"))
    # A write still under way, and a file of another kind: neither is a remessa to answer.
    (remessas / ".001_1234_56789_000008.rem.x1y2.tmp").write_text("partial")
    (remessas / "notes.txt").write_text("not a remessa")

    assert unanswered(remessas, retornos) == [remessa]
    done = answer_remessa(remessa, retornos)

    assert done.retorno == retornos / "001_1234_56789_000007.ret"
    assert retorno_name(remessa.name) == done.retorno.name
    assert stat.S_IMODE(retornos.stat().st_mode) == 0o700
    assert stat.S_IMODE(done.retorno.stat().st_mode) == 0o600
    assert done.retorno.read_bytes().decode("ascii") == done.answer.text
    assert [p.name for p in retornos.iterdir()] == [done.retorno.name]
    assert unanswered(remessas, retornos) == []

    assert unsent(retornos) == [done.retorno]
    mark_sent(done.retorno)
    assert unsent(retornos) == []
    marker = retornos / "001_1234_56789_000007.ret.sent"
    assert marker.read_bytes() == b"" and stat.S_IMODE(marker.stat().st_mode) == 0o600


def test_directories_that_do_not_exist_yet_hold_nothing_to_do(tmp_path: Path) -> None:
    assert unanswered(tmp_path / "none", tmp_path / "neither") == []
    assert unsent(tmp_path / "neither") == []


@pytest.mark.parametrize("code", sorted(REMESSAS))
def test_each_bank_carries_out_instructions_and_says_so_in_its_own_codes(code: str) -> None:
    header, (first, second) = REMESSAS[code]
    later = first._replace(movement=Movement.DUE_DATE, due_date=date(2027, 3, 1))
    off = second._replace(movement=Movement.WRITE_OFF)

    result = answer(remessa_text(header, [later, off]))

    retorno = parse_retorno(result.text)
    assert retorno.errors == () and retorno.unmatched == ()
    assert [(o.nosso_numero, o.outcome) for o in retorno.occurrences] == [
        (first.nosso_numero, Outcome.DUE_DATE_CHANGED),
        (second.nosso_numero, Outcome.WRITTEN_OFF),
    ]
    assert retorno.occurrences[0].due_date == date(2027, 3, 1)
    assert (result.instructions, result.registered, result.paid) == (2, 0, 0)
