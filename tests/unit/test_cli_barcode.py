"""``boletos barcode``: published boletos reproduced offline; ``--check`` on good and bad codes."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.issuing import issue_boleto
from boletos_cli.main import main
from tests.unit.boleto.test_golden_vectors import BANK_VECTORS, BankVector

BB = next(v for v in BANK_VECTORS if v.bank_code == "001" and v.barcode)
# brcobranca's carteira 109 boleto, due after the 2025 factor reset.
ITAU = next(v for v in BANK_VECTORS if v.bank_code == "341" and v.due_date.year == 2029)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def reais(cents: int) -> str:
    whole, fraction = divmod(cents, 100)
    return f"{whole}.{fraction:02d}"


def build_argv(vector: BankVector, *, today: date | None = None, account: bool = True) -> list[str]:
    argv = [
        "barcode",
        "--bank", vector.bank_code,
        "--due", vector.due_date.isoformat(),
        "--amount", reais(vector.amount_cents),
        "--carteira", vector.carteira,
        "--nosso-numero", str(vector.sequence),
        "--today", (today or vector.due_date).isoformat(),
    ]  # fmt: skip
    if vector.convenio:
        argv += ["--convenio", vector.convenio]
    if account:
        argv += ["--agencia", vector.agencia, "--conta", vector.conta]
        argv += ["--conta-dv", vector.conta_dv]
    return argv


def vector_id(vector: BankVector) -> str:
    project = vector.source.split(",")[0].split("/")[1]
    return f"{project}-{vector.bank_code}-{vector.sequence}-{vector.amount_cents}-{vector.due_date}"


def corrupt(linha: str, index: int) -> str:
    """The linha with its index-th digit (punctuation not counted) changed."""
    digits = linha.replace(".", "").replace(" ", "")
    changed = str((int(digits[index]) + 1) % 10)
    return digits[:index] + changed + digits[index + 1 :]


@pytest.mark.parametrize("vector", BANK_VECTORS, ids=vector_id)
def test_reproduces_every_published_boleto(
    capsys: pytest.CaptureFixture[str], vector: BankVector
) -> None:
    code, out, err = run(capsys, *build_argv(vector), "--json")

    assert code == 0, err
    document = json.loads(out)
    if vector.barcode is not None:
        assert document["barcode"] == vector.barcode
    assert document["digitable_line"] == vector.linha
    if vector.nosso_numero is not None:
        assert document["nosso_numero"] == vector.nosso_numero
    assert document["amount_cents"] == vector.amount_cents
    assert document["due_date"] == vector.due_date.isoformat()
    assert document["campo_livre"] == document["barcode"][19:]


def test_table_shows_barcode_linha_factor_and_nosso_numero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, *build_argv(ITAU))

    assert code == 0, err
    assert ITAU.barcode is not None and ITAU.barcode in out
    assert ITAU.linha in out
    assert "2548" in out  # the factor after the 2025 reset
    assert "109/00010152-7" in out
    assert "R$ 6.757,87" in out


def test_amount_in_whole_reais_and_decimal_strings_agree(
    capsys: pytest.CaptureFixture[str],
) -> None:
    whole = build_argv(BB)
    whole[whole.index("--amount") + 1] = "135"
    _, out_whole, _ = run(capsys, *whole, "--json")
    _, out_cents, _ = run(capsys, *build_argv(BB), "--json")

    assert json.loads(out_whole)["barcode"] == json.loads(out_cents)["barcode"] == BB.barcode
    assert json.loads(out_whole)["amount"] == "135.00"


def test_banco_do_brasil_needs_no_account_flags(capsys: pytest.CaptureFixture[str]) -> None:
    # Agência and conta are not in a Banco do Brasil barcode, so stand-ins serve.
    code, out, err = run(capsys, *build_argv(BB, account=False), "--json")

    assert code == 0, err
    assert json.loads(out)["barcode"] == BB.barcode


def test_itau_without_agencia_is_refused_rather_than_guessed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = build_argv(ITAU, account=False) + ["--conta", ITAU.conta, "--conta-dv", ITAU.conta_dv]

    code, out, err = run(capsys, *argv)

    assert code == 2
    assert out == ""
    assert "--agencia" in err


def test_a_refusal_quoting_a_stand_in_says_where_it_came_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = build_argv(ITAU, account=False) + ["--agencia", ITAU.agencia, "--conta", ITAU.conta]

    code, _, err = run(capsys, *argv)

    assert code == 2
    assert f"is {ITAU.conta_dv}, got '0'" in err
    assert "stand-ins for flags not given: --conta-dv 0" in err


def test_overdue_due_date_is_printed_as_given_without_charges(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Two years past due is still payable; the service would re-date and charge it, this not.
    code, out, err = run(capsys, *build_argv(BB, today=BB.due_date + timedelta(days=730)), "--json")

    assert code == 0, err
    document = json.loads(out)
    assert document["barcode"] == BB.barcode
    assert document["due_date"] == BB.due_date.isoformat()
    assert document["amount_cents"] == BB.amount_cents


@pytest.mark.parametrize(
    ("due", "today", "reason"),
    [
        ("2041-01-01", "2025-01-01", "at most 5500 days ahead"),
        ("2008-02-03", "2025-01-01", "at most 3000 days past due"),
    ],
)
def test_due_date_outside_the_payable_window_exits_2_with_the_reason(
    capsys: pytest.CaptureFixture[str], due: str, today: str, reason: str
) -> None:
    argv = build_argv(BB)
    argv[argv.index("--due") + 1] = due
    argv[argv.index("--today") + 1] = today

    code, out, err = run(capsys, *argv)

    assert code == 2
    assert out == ""
    assert reason in err and due in err
    assert len(err.strip().splitlines()) == 1


def test_fractions_of_a_centavo_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = build_argv(BB)
    argv[argv.index("--amount") + 1] = "135.001"

    code, _, err = run(capsys, *argv)

    assert code == 2
    assert "fractions of a centavo" in err


def test_comma_amounts_are_refused_as_ambiguous(capsys: pytest.CaptureFixture[str]) -> None:
    argv = build_argv(BB)
    argv[argv.index("--amount") + 1] = "1.234,56"

    with pytest.raises(SystemExit) as exit_info:
        main(argv)

    assert exit_info.value.code == 2
    assert "dot before the centavos" in capsys.readouterr().err


def test_missing_inputs_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "barcode", "--bank", "001")

    assert code == 2
    assert "--due" in err and "--amount" in err and "--nosso-numero" in err


@pytest.mark.parametrize("vector", [BB, ITAU], ids=["banco-do-brasil", "itau"])
def test_check_accepts_a_valid_linha_and_decodes_it(
    capsys: pytest.CaptureFixture[str], vector: BankVector
) -> None:
    today = (vector.due_date - timedelta(days=30)).isoformat()

    code, out, err = run(capsys, "barcode", "--check", vector.linha, "--today", today)

    assert code == 0, err
    assert "every check digit verifies" in out
    assert vector.due_date.isoformat() in out
    assert vector.barcode is not None and vector.barcode in out


def test_check_resolves_the_factor_around_today(capsys: pytest.CaptureFixture[str]) -> None:
    # Factor 2548 named 2004-09-28 before the 2025 reset and 2029-05-20 after it.
    _, out, _ = run(capsys, "barcode", "--check", ITAU.linha, "--today", "2025-06-01", "--json")
    assert json.loads(out)["due_date"] == "2029-05-20"

    _, out, _ = run(capsys, "barcode", "--check", ITAU.linha, "--today", "2005-01-01", "--json")
    assert json.loads(out)["due_date"] == "2004-09-28"


def test_check_accepts_codes_without_punctuation(capsys: pytest.CaptureFixture[str]) -> None:
    digits = BB.linha.replace(".", "").replace(" ", "")

    code, out, err = run(capsys, "barcode", "--check", digits, "--today", "2008-01-01", "--json")

    assert code == 0, err
    document = json.loads(out)
    assert document["valid"] is True
    assert document["kind"] == "linha digitável"
    assert document["barcode"] == BB.barcode
    assert document["bank_code"] == "001" and document["bank_name"] == "Banco do Brasil"
    assert document["amount"] == reais(BB.amount_cents)
    assert document["amount_cents"] == BB.amount_cents


def test_check_names_the_field_whose_check_digit_is_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Digit 21 of the 47 is field 2's modulo 10 check digit.
    bad = corrupt(BB.linha, 20)

    code, out, err = run(capsys, "barcode", "--check", bad, "--today", "2008-01-01")

    assert code == 1, err
    assert "1 wrong check digit" in out
    assert "field 2 (modulo 10)" in out
    assert "field 1" not in out and "field 3" not in out and "field 4" not in out
    # The fields still decode, so the person can see what the code says.
    assert "R$ 135,00" in out and "2008-02-03" in out


def test_check_reports_a_changed_amount_through_the_general_check_digit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = corrupt(BB.linha, 46)  # the last centavo digit

    code, out, _ = run(capsys, "barcode", "--check", bad, "--today", "2008-01-01", "--json")

    assert code == 1
    document = json.loads(out)
    assert document["valid"] is False
    assert [m["where"] for m in document["mismatches"]] == [
        "field 4 (general check digit, modulo 11)"
    ]
    assert document["barcode"] is None


def test_check_on_a_barcode_with_a_wrong_general_digit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert BB.barcode is not None
    bad = BB.barcode[:4] + str((int(BB.barcode[4]) + 1) % 10) + BB.barcode[5:]

    code, out, _ = run(capsys, "barcode", "--check", bad, "--today", "2008-01-01")

    assert code == 1
    assert "barcode: 1 wrong check digit" in out
    assert "general check digit" in out


@pytest.mark.parametrize("text", ["123", "0019x" + "0" * 42, "0" * 45])
def test_check_refuses_what_is_neither_barcode_nor_linha(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code, out, err = run(capsys, "barcode", "--check", text)

    assert code == 2
    assert out == ""
    assert "44-digit barcode or a 47-digit linha" in err


def test_check_takes_no_build_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "barcode", "--check", BB.linha, "--bank", "001")

    assert code == 2
    assert "--bank" in err


# Each bank's own terms as flags; the domain is the reference the CLI must agree with.
BANK_TERMS = [
    pytest.param(
        "748",
        ["--cooperativa", "0165", "--posto", "02", "--codigo-beneficiario", "00623",
         "--conta", "12345", "--conta-dv", "1", "--carteira", "1"],
        dict(agencia="0165", posto="02", codigo_beneficiario="00623", conta="12345",
             conta_dv="1", carteira="1"),
        id="sicredi",
    ),
    pytest.param(
        "756",
        ["--cooperativa", "4327", "--codigo-cliente", "172278", "--conta", "1234",
         "--conta-dv", "5", "--carteira", "1"],
        dict(agencia="4327", codigo_beneficiario="172278", conta="1234", conta_dv="5",
             carteira="1"),
        id="sicoob",
    ),
    pytest.param(
        "104",
        ["--agencia", "1234", "--codigo-beneficiario", "123456", "--conta", "1",
         "--conta-dv", "0", "--carteira", "14"],
        dict(agencia="1234", codigo_beneficiario="123456", conta="1", conta_dv="0",
             carteira="14"),
        id="caixa",
    ),
    pytest.param(
        "033",
        ["--agencia", "1234", "--codigo-beneficiario", "0282033", "--conta", "13000123",
         "--conta-dv", "4", "--carteira", "101"],
        dict(agencia="1234", codigo_beneficiario="0282033", conta="13000123", conta_dv="4",
             carteira="101"),
        id="santander",
    ),
    pytest.param(
        "237",
        ["--agencia", "1172", "--conta", "403005", "--conta-dv", "2", "--carteira", "09"],
        dict(agencia="1172", conta="403005", conta_dv="2", carteira="09"),
        id="bradesco",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("bank", "flags", "fields"), BANK_TERMS)
def test_every_bank_computes_with_flags_in_its_own_terms(
    capsys: pytest.CaptureFixture[str], bank: str, flags: list[str], fields: dict[str, str]
) -> None:
    due = date(2026, 12, 20)
    sequence = 26200003 if bank == "748" else 42
    code, out, err = run(
        capsys, "barcode", "--bank", bank, "--due", due.isoformat(), "--amount", "150.35",
        "--nosso-numero", str(sequence), "--today", "2026-12-05", "--json", *flags,
    )  # fmt: skip
    assert (code, err) == (0, "")
    config = BeneficiaryConfig(name="X", cnpj="11222333000181", bank_code=bank, **fields)
    expected = issue_boleto(config, sequence, 150_35, due, due)
    got = json.loads(out)
    assert got["barcode"] == expected.barcode
    assert got["nosso_numero"] == expected.nosso_numero


def test_help_lists_each_banks_flags(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["barcode", "--help"])
    shown = capsys.readouterr().out
    for words in ("748 Sicredi", "--cooperativa", "--posto", "--codigo-cliente", "104 Caixa"):
        assert words in shown
