from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.banks.itau import account_dac, nosso_numero_dac
from boleto_service.domain.checkdigits import mod10, mod11_barcode, mod11_remainder
from boleto_service.domain.errors import MalformedCode

from .test_golden_vectors import BOLETO2NET_ITAU109, BRCOBRANCA_ITAU, CODE_VECTORS

# The FEBRABAN weights for the general DV, written out from the right for all 43 digits, so the
# checks below do not share code with the implementation.
_WEIGHTS_FROM_RIGHT = [2, 3, 4, 5, 6, 7, 8, 9] * 5 + [2, 3, 4]


def _remainder_by_hand(barcode: str) -> int:
    payload = barcode[:4] + barcode[5:]
    assert len(payload) == 43
    return sum(int(d) * w for d, w in zip(reversed(payload), _WEIGHTS_FROM_RIGHT, strict=True)) % 11


@given(st.text(alphabet="0123456789", min_size=1, max_size=64))
def test_both_schemes_equal_their_definition_digit_by_digit(digits: str) -> None:
    weights = ([2, 3, 4, 5, 6, 7, 8, 9] * 8)[: len(digits)]
    assert (
        mod11_remainder(digits)
        == sum(int(d) * w for d, w in zip(reversed(digits), weights, strict=True)) % 11
    )
    products = [int(d) * (2 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits))]
    assert mod10(digits) == (10 - sum(p // 10 + p % 10 for p in products) % 10) % 10


@pytest.mark.parametrize(
    ("digits", "dv"),
    [
        # Field DVs of published linhas (see test_golden_vectors.py): data digits -> printed DV.
        ("001900000", 9),
        ("0123879877", 9),
        ("7770016818", 8),
        ("341910900", 8),
        ("0001571029", 6),
        ("3013280000", 1),
        # Sum a multiple of 10 gives 0, not 10.
        ("0", 0),
        ("0000000000", 0),
    ],
)
def test_mod10(digits: str, dv: int) -> None:
    assert mod10(digits) == dv


def test_mod10_sums_digits_of_two_digit_products() -> None:
    # 9 * 2 = 18 counts as 1 + 8 = 9; total 9 -> DV 1. A plain sum of products (18) would give 2.
    assert mod10("9") == 1


def test_check_digits_refuse_non_digits() -> None:
    with pytest.raises(MalformedCode):
        mod10("12a4")
    with pytest.raises(MalformedCode):
        mod11_barcode("١٢٣")  # Arabic-Indic digits pass str.isdigit but are not ASCII


@pytest.mark.parametrize("vector", CODE_VECTORS, ids=lambda v: v.barcode)
def test_general_dv_of_every_published_barcode(vector) -> None:
    payload = vector.barcode[:4] + vector.barcode[5:]
    assert mod11_remainder(payload) == _remainder_by_hand(vector.barcode)
    assert mod11_barcode(payload) == int(vector.barcode[4])


@pytest.mark.parametrize(
    ("source", "barcode", "remainder"),
    [
        (BRCOBRANCA_ITAU, "34191432900000000001751234567840810536789000", 0),
        (BRCOBRANCA_ITAU, "34191252500000135001960025828112345671234550", 1),
        (BOLETO2NET_ITAU109, "34191719500000600001090022335021234567890000", 1),
    ],
)
def test_published_dv_one_from_collapsed_remainders(
    source: str, barcode: str, remainder: int
) -> None:
    # 11 - 0 = 11 and 11 - 1 = 10 do not fit one digit; all three sources print 1.
    assert _remainder_by_hand(barcode) == remainder
    assert barcode[4] == "1"
    assert mod11_barcode(barcode[:4] + barcode[5:]) == 1


@pytest.mark.parametrize(
    ("barcode", "remainder"),
    [
        # Constructed: Banco do Brasil, convênio 1234567, complement 42, carteira 17, due
        # 2025-03-10 (factor 1016), R$ 100,15 and R$ 100,03.
        ("00191101600000100150000001234567000000004217", 0),
        ("00191101600000100030000001234567000000004217", 1),
    ],
)
def test_constructed_dv_one_from_collapsed_remainders(barcode: str, remainder: int) -> None:
    assert _remainder_by_hand(barcode) == remainder
    assert mod11_barcode(barcode[:4] + barcode[5:]) == 1


def test_remainder_ten_gives_one_without_collapsing() -> None:
    # brcobranca's Itaú carteira 175 boleto of R$ 135,00: remainder 10, 11 - 10 = 1.
    barcode = "34191377000000135001750025828170810536789000"
    assert _remainder_by_hand(barcode) == 10
    assert mod11_barcode(barcode[:4] + barcode[5:]) == 1


@pytest.mark.parametrize(
    ("agencia", "conta", "carteira", "nosso_numero", "dac"),
    [
        # brcobranca itau_spec.rb "Montar nosso_numero_dv" (agência 0810, conta 53678, 175).
        ("0810", "53678", "175", "00015448", 6),
        ("0810", "53678", "175", "12345678", 4),
        ("0810", "53678", "175", "00034230", 5),
        ("0810", "53678", "175", "00258281", 7),
        # pyboleto test_banco_itau.py test_dv_nosso_numero.
        ("0293", "01328", "109", "00000157", 1),
        # caelum-stella ItauTest.java (comDigitoNossoNumero).
        ("0167", "45145", "157", "21897666", 6),
        ("8462", "05825", "174", "00015135", 6),
    ],
)
def test_itau_nosso_numero_dac(
    agencia: str, conta: str, carteira: str, nosso_numero: str, dac: int
) -> None:
    assert nosso_numero_dac(agencia, conta, carteira, nosso_numero) == dac


@pytest.mark.parametrize(
    ("agencia", "conta", "dac"),
    [
        # brcobranca itau_spec.rb "Montar agencia_conta_corrente_dv".
        ("0607", "15255", 0),
        ("1547", "85547", 6),
        ("1547", "10207", 7),
        ("0811", "53678", 8),
        # pyboleto test_banco_itau.py test_dv_agencia_conta_cedente.
        ("0293", "01328", 0),
    ],
)
def test_itau_account_dac(agencia: str, conta: str, dac: int) -> None:
    assert account_dac(agencia, conta) == dac
