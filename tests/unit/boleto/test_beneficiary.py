from __future__ import annotations

import pytest

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.cnpj import cnpj_problem, format_cnpj
from boleto_service.domain.errors import InvalidBeneficiaryConfig
from tests.support.beneficiaries import BB_FIELDS

_VALID_BB = BB_FIELDS
_VALID_ITAU = dict(
    name="Cobranças Exemplo Ltda",
    cnpj="11222333000181",
    bank_code="341",
    agencia="1248",
    conta="02124",
    conta_dv="6",
    carteira="109",
)


def _problems(**fields: str) -> tuple[str, ...]:
    with pytest.raises(InvalidBeneficiaryConfig) as refused:
        BeneficiaryConfig(**fields)
    return tuple(p.text for p in refused.value.problems)


def test_valid_configurations() -> None:
    bb = BeneficiaryConfig(**_VALID_BB)
    assert bb.bank.name == "Banco do Brasil"
    assert bb.cnpj_formatted == "11.222.333/0001-81"
    assert bb.agencia_conta == "1234 / 123456-X"
    assert BeneficiaryConfig(**_VALID_ITAU).bank.code == "341"


_COMPANY = dict(name="Cobranças Exemplo Ltda", cnpj="11222333000181")


@pytest.mark.parametrize(
    ("fields", "printed"),
    [
        (_VALID_BB, "1234 / 123456-X"),
        (_VALID_ITAU, "1248 / 02124-6"),
        (dict(bank_code="237", agencia="4042", conta="61900", conta_dv="0", carteira="09",
              convenio="4680713"), "4042 / 61900-0"),
        # Agência and código do beneficiário with its DV, "AAAA / CCCCCC-D".
        (dict(bank_code="104", agencia="1825", conta="1", conta_dv="0", carteira="14",
              codigo_beneficiario="245274"), "1825 / 245274-0"),
        # Agência and código do beneficiário.
        (dict(bank_code="033", agencia="1234", conta="013000123", conta_dv="5", carteira="101",
              codigo_beneficiario="7654321"), "1234 / 7654321"),
        # Cooperativa and código do cliente.
        (dict(bank_code="756", agencia="4327", conta="417270", conta_dv="5", carteira="1",
              codigo_beneficiario="229385"), "4327 / 229385"),
        # Cooperativa, posto and código do beneficiário, "AAAA.PP.CCCCC".
        (dict(bank_code="748", agencia="0165", conta="45981", conta_dv="3", carteira="1",
              posto="02", codigo_beneficiario="00623"), "0165.02.00623"),
    ],
)  # fmt: skip
def test_agencia_conta_is_what_the_banks_boleto_prints(
    fields: dict[str, str], printed: str
) -> None:
    config = BeneficiaryConfig(**{**_COMPANY, **fields})
    assert config.agencia_conta == printed == config.bank.agencia_codigo(config)


def test_config_is_immutable() -> None:
    config = BeneficiaryConfig(**_VALID_ITAU)
    with pytest.raises(AttributeError):
        config.conta = "99999"  # type: ignore[misc]


def test_from_raw_tolerates_typing_habits() -> None:
    config = BeneficiaryConfig.from_raw(
        **{**_VALID_BB, "cnpj": " 11.222.333/0001-81 ", "conta_dv": "x", "name": " Exemplo "}
    )
    assert config.cnpj == "11222333000181"
    assert config.conta_dv == "X"
    assert config.name == "Exemplo"


@pytest.mark.parametrize(
    ("cnpj", "problem"),
    [
        ("11222333000181", None),
        # Receita Federal's alphanumeric example (in use from July 2026).
        ("12ABC34501DE35", None),
        ("11222333000182", "expected 81"),
        ("12ABC34501DE36", "expected 35"),
        ("00000000000000", "placeholder"),
        ("1122233300018", "12 digits or upper-case letters"),
        ("12abc34501de35", "12 digits or upper-case letters"),
    ],
)
def test_cnpj(cnpj: str, problem: str | None) -> None:
    found = cnpj_problem(cnpj)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_format_cnpj() -> None:
    assert format_cnpj("12ABC34501DE35") == "12.ABC.345/01DE-35"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"name": "  "}, "name is empty"),
        ({"cnpj": "11222333000182"}, "check digits"),
        ({"bank_code": "422"}, "bank code '422' has no boleto layout"),
        ({"agencia": "123"}, "agência must have 4 digits"),
        ({"conta": "12a"}, "conta must be 1 to 12 digits"),
        ({"conta_dv": "10"}, "conta DV must be one character"),
        ({"carteira": "1A"}, "carteira must be 1 to 3 digits"),
        ({"convenio": "123456"}, "convênio must have 7 digits"),
        ({"carteira": "11"}, "carteira must be one of 17, 18"),
        ({"conta": "123456789"}, "conta must have 1 to 8 digits"),
        ({"conta_dv": "Y"}, "one digit or X"),
    ],
)
def test_banco_do_brasil_config_errors(changes: dict[str, str], fragment: str) -> None:
    problems = _problems(**{**_VALID_BB, **changes})
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"conta_dv": "5"}, "Itaú conta DV for agência 1248 conta 02124 is 6, got '5'"),
        ({"conta": "2124"}, "5 digits (pad with leading zeros)"),
        ({"carteira": "112"}, "carteira must be one of 109, 157, 174, 175"),
        ({"carteira": "168"}, "carteira must be one of"),
        ({"convenio": "12387"}, "carry no convênio"),
    ],
)
def test_itau_config_errors(changes: dict[str, str], fragment: str) -> None:
    problems = _problems(**{**_VALID_ITAU, **changes})
    assert any(fragment in p for p in problems), problems


def test_all_general_problems_are_reported_together() -> None:
    problems = _problems(**{**_VALID_BB, "name": "", "cnpj": "1", "agencia": "12"})
    assert len(problems) == 3


def test_error_message_lists_the_problems() -> None:
    with pytest.raises(InvalidBeneficiaryConfig, match="agência must have 4 digits"):
        BeneficiaryConfig(**{**_VALID_BB, "agencia": "12345"})


def test_non_text_fields_are_refused() -> None:
    # Deliberately not text: the check under test is the one the type cannot express.
    problems = _problems(**{**_VALID_BB, "agencia": 1234})
    assert problems == ("agencia must be text, got 1234",)
