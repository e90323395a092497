"""CPF and CNPJ are told apart from other ids by their check digits, never by length alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boletos.v1 import events_pb2
from ingest_service.domain.government_id import GovernmentIdKind, classify, is_cnpj, is_cpf


def cpf_check_digits(base: str) -> str:
    """Receita Federal's rule as usually stated: sum * 10 mod 11, with 10 read as 0."""
    digits = [int(c) for c in base]
    for _ in range(2):
        weight = len(digits) + 1
        total = sum(d * (weight - i) for i, d in enumerate(digits))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits[-2:]))


def cnpj_check_digits(base: str) -> str:
    """Weights 2..9 repeating from the rightmost digit; remainders 0 and 1 give 0."""
    digits = [int(c) for c in base]
    for _ in range(2):
        total = sum(d * (2 + i % 8) for i, d in enumerate(reversed(digits)))
        rest = total % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, digits[-2:]))


def test_the_reference_rules_reproduce_public_numbers() -> None:
    # 00.000.000/0001-91 is Banco do Brasil S.A.'s CNPJ, printed on its public statements.
    assert cnpj_check_digits("000000000001") == "91"
    # 111.444.777-35 is the CPF used as the worked example in many published validators.
    assert cpf_check_digits("111444777") == "35"


@pytest.mark.parametrize("value", ["11144477735", "52998224725", "12345678909"])
def test_known_valid_cpfs(value: str) -> None:
    assert cpf_check_digits(value[:9]) == value[9:]
    assert classify(value) is GovernmentIdKind.CPF


@pytest.mark.parametrize("value", ["00000000000191", "11222333000181", "33000167000101"])
def test_known_valid_cnpjs(value: str) -> None:
    assert cnpj_check_digits(value[:12]) == value[12:]
    assert classify(value) is GovernmentIdKind.CNPJ


@given(st.text("0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1))
def test_any_cpf_with_correct_check_digits(base: str) -> None:
    value = base + cpf_check_digits(base)
    assert classify(value) is GovernmentIdKind.CPF
    assert is_cpf(value)


@given(st.text("0123456789", min_size=12, max_size=12).filter(lambda s: len(set(s)) > 1))
def test_any_cnpj_with_correct_check_digits(base: str) -> None:
    value = base + cnpj_check_digits(base)
    assert classify(value) is GovernmentIdKind.CNPJ
    assert is_cnpj(value)


@given(st.text("0123456789", min_size=9, max_size=9), st.integers(0, 1), st.integers(1, 9))
def test_cpf_with_a_wrong_check_digit_is_other(base: str, which: int, delta: int) -> None:
    good = list(base + cpf_check_digits(base))
    good[9 + which] = str((int(good[9 + which]) + delta) % 10)
    assert classify("".join(good)) is GovernmentIdKind.OTHER


@given(st.text("0123456789", min_size=12, max_size=12), st.integers(0, 1), st.integers(1, 9))
def test_cnpj_with_a_wrong_check_digit_is_other(base: str, which: int, delta: int) -> None:
    good = list(base + cnpj_check_digits(base))
    good[12 + which] = str((int(good[12 + which]) + delta) % 10)
    assert classify("".join(good)) is GovernmentIdKind.OTHER


@pytest.mark.parametrize("digit", "0123456789")
def test_repeated_digits_are_other(digit: str) -> None:
    # Some of these pass the arithmetic (11111111111 does), yet none is issued.
    assert classify(digit * 11) is GovernmentIdKind.OTHER
    assert classify(digit * 14) is GovernmentIdKind.OTHER


def test_repeated_digits_would_pass_the_arithmetic() -> None:
    # Guards the test above: without the explicit rule these would be classified.
    assert cpf_check_digits("111111111") == "11"
    assert cnpj_check_digits("000000000000") == "00"


@pytest.mark.parametrize(
    "value", ["1234", "0001", "7", "", "1114447773", "111444777350", "0000000000019", "12.345"]
)
def test_ids_of_other_lengths_or_shapes_are_other(value: str) -> None:
    assert classify(value) is GovernmentIdKind.OTHER


def test_kinds_mirror_the_protobuf_enum() -> None:
    wire = {
        name.removeprefix("GOVERNMENT_ID_KIND_"): number
        for name, number in events_pb2.GovernmentIdKind.items()
        if number != 0
    }
    assert wire == {kind.name: kind.value for kind in GovernmentIdKind}
