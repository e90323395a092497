from __future__ import annotations

import pytest

from boleto_service.domain.barcode import build_barcode, parse_barcode, validate_barcode
from boleto_service.domain.checkdigits import mod11_barcode
from boleto_service.domain.due_factor import date_for_factor
from boleto_service.domain.errors import (
    InvalidAmount,
    InvalidCheckDigit,
    InvalidDueDate,
    MalformedCode,
)
from boleto_service.domain.linha_digitavel import (
    barcode_to_linha,
    format_linha,
    linha_mismatches,
    linha_to_barcode,
    normalize_linha,
    validate_linha,
)

from .test_golden_vectors import BANK_VECTORS, CODE_VECTORS


@pytest.mark.parametrize("vector", CODE_VECTORS, ids=lambda v: v.barcode)
def test_published_barcode_gives_published_linha(vector) -> None:
    assert format_linha(barcode_to_linha(vector.barcode)) == vector.linha


@pytest.mark.parametrize("vector", CODE_VECTORS, ids=lambda v: v.barcode)
def test_published_linha_gives_published_barcode(vector) -> None:
    assert linha_to_barcode(vector.linha) == vector.barcode


@pytest.mark.parametrize("vector", CODE_VECTORS, ids=lambda v: v.barcode)
def test_published_barcode_rebuilds_from_its_fields(vector) -> None:
    fields = parse_barcode(vector.barcode)
    rebuilt = build_barcode(
        fields.bank_code, fields.factor, fields.amount_cents, fields.campo_livre
    )
    assert rebuilt == vector.barcode


@pytest.mark.parametrize("vector", [v for v in BANK_VECTORS if v.barcode], ids=lambda v: v.barcode)
def test_parsed_fields_match_published_inputs(vector) -> None:
    fields = parse_barcode(vector.barcode)
    assert fields.bank_code == vector.bank_code
    assert fields.currency == "9"
    assert fields.amount_cents == vector.amount_cents
    assert date_for_factor(fields.factor, vector.due_date) == vector.due_date


def test_linha_accepts_printed_separators_and_double_spaces() -> None:
    # caelum-stella prints the fields two spaces apart.
    printed = "00190.00009  01207.113000  09000.206186  5  38600000004000"
    assert linha_to_barcode(printed) == "00195386000000040000000001207113000900020618"
    assert normalize_linha(printed) == "00190000090120711300009000206186538600000004000"


def test_format_linha_field_widths() -> None:
    formatted = format_linha("0" * 47)
    assert formatted == "00000.00000 00000.000000 00000.000000 0 00000000000000"
    assert [len(part) for part in formatted.split(" ")] == [11, 12, 12, 1, 14]


_LINHA = "00190.00009 01238.798779 77700.168188 3 37710000013500"


def _replace(text: str, index: int, digit: str) -> str:
    return text[:index] + digit + text[index + 1 :]


@pytest.mark.parametrize(
    ("index", "where"),
    [(10, "field 1"), (23, "field 2"), (36, "field 3")],
)
def test_wrong_field_dv_is_named(index: int, where: str) -> None:
    # Index `index` in the printed linha is the DV of that field.
    original = _LINHA[index]
    broken = _replace(_LINHA, index, "0" if original != "0" else "1")
    mismatches = linha_mismatches(broken)
    assert [m.where.split(" (")[0] for m in mismatches] == [where]
    assert mismatches[0].expected == int(original)
    with pytest.raises(InvalidCheckDigit, match=where):
        validate_linha(broken)


def test_wrong_general_dv_in_linha_is_named() -> None:
    broken = _replace(_LINHA, 38, "7")
    (mismatch,) = linha_mismatches(broken)
    assert mismatch.where.startswith("field 4")
    assert (mismatch.expected, mismatch.found) == (3, 7)


def test_changed_amount_in_linha_is_caught_by_the_general_dv() -> None:
    broken = _replace(_LINHA, len(_LINHA) - 1, "1")  # R$ 135,00 -> R$ 135,01
    assert [m.where.split(" (")[0] for m in linha_mismatches(broken)] == ["field 4"]
    with pytest.raises(InvalidCheckDigit):
        linha_to_barcode(broken)


def test_wrong_barcode_dv_is_named() -> None:
    broken = "00196377100000135000000001238798777770016818"
    with pytest.raises(InvalidCheckDigit, match="position 5") as refused:
        validate_barcode(broken)
    (mismatch,) = refused.value.mismatches
    assert (mismatch.expected, mismatch.found) == (3, 6)


@pytest.mark.parametrize(
    "text",
    ["0019337710000013500000000123879877777001681", "0019337710000013500000000123879877777001681X"],
)
def test_malformed_barcodes_are_refused(text: str) -> None:
    with pytest.raises(MalformedCode):
        validate_barcode(text)


def test_malformed_linha_is_refused() -> None:
    with pytest.raises(MalformedCode, match="47 digits"):
        validate_linha(_LINHA[:-1])


def test_other_currency_is_refused_when_parsing() -> None:
    payload = "0010" + "3771" + "0000013500" + "0000001238798777770016818"
    barcode = payload[:4] + str(mod11_barcode(payload)) + payload[4:]
    with pytest.raises(MalformedCode, match="currency"):
        parse_barcode(barcode)


@pytest.mark.parametrize(
    ("factor", "amount", "error"),
    [
        (999, 100, InvalidDueDate),
        (10000, 100, InvalidDueDate),
        (1000, -1, InvalidAmount),
        (1000, 10_000_000_000, InvalidAmount),
    ],
)
def test_build_refuses_unrepresentable_fields(factor: int, amount: int, error: type) -> None:
    with pytest.raises(error):
        build_barcode("001", factor, amount, "0" * 25)


def test_build_accepts_the_largest_amount() -> None:
    barcode = build_barcode("001", 1000, 9_999_999_999, "0" * 25)
    assert barcode[9:19] == "9999999999"
