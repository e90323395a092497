"""Properties of the barcode and linha digitável that must hold for any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.barcode import barcode_mismatches, build_barcode, parse_barcode
from boleto_service.domain.checkdigits import mod10
from boleto_service.domain.linha_digitavel import (
    barcode_to_linha,
    format_linha,
    formatted_linha_for_built_barcode,
    linha_mismatches,
    linha_to_barcode,
    normalize_linha,
)
from boleto_service.domain.money import MAX_AMOUNT_CENTS

_digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
bank_codes = st.text(alphabet="0123456789", min_size=3, max_size=3)
factors = st.integers(1000, 9999)
amounts = st.integers(0, MAX_AMOUNT_CENTS)
campos_livres = st.text(alphabet="0123456789", min_size=25, max_size=25)


@st.composite
def barcodes(draw: st.DrawFn) -> str:
    return build_barcode(draw(bank_codes), draw(factors), draw(amounts), draw(campos_livres))


def _general_remainder(barcode: str) -> int:
    # Independent of the implementation: weights 2..9 from the right over the 43 other digits.
    payload = barcode[:4] + barcode[5:]
    weights = [2 + i % 8 for i in range(43)]
    return sum(int(d) * w for d, w in zip(reversed(payload), weights, strict=True)) % 11


# Remainders whose DV prints as 1; a change moving the remainder among them keeps the DV.
_PRINTED_AS_ONE = {0, 1, 10}


@given(bank_codes, factors, amounts, campos_livres)
def test_fields_survive_build_and_parse(bank: str, factor: int, amount: int, livre: str) -> None:
    fields = parse_barcode(build_barcode(bank, factor, amount, livre))
    assert (fields.bank_code, fields.factor, fields.amount_cents, fields.campo_livre) == (
        bank,
        factor,
        amount,
        livre,
    )


@given(barcodes())
def test_barcode_linha_round_trip(barcode: str) -> None:
    linha = barcode_to_linha(barcode)
    assert len(linha) == 47
    assert linha_to_barcode(linha) == barcode
    assert linha_to_barcode(format_linha(linha)) == barcode
    assert normalize_linha(format_linha(linha)) == linha
    assert formatted_linha_for_built_barcode(barcode) == format_linha(linha)


@given(barcodes())
def test_every_check_digit_verifies(barcode: str) -> None:
    assert barcode_mismatches(barcode) == ()
    linha = barcode_to_linha(barcode)
    assert linha_mismatches(linha) == ()
    for start, end in ((0, 10), (10, 21), (21, 32)):
        assert mod10(linha[start : end - 1]) == int(linha[end - 1])
    assert linha[32] == barcode[4]
    assert linha[33:] == barcode[5:19]


@given(barcodes(), st.integers(0, 43), _digits)
def test_single_digit_change_in_barcode(barcode: str, index: int, digit: str) -> None:
    if barcode[index] == digit:
        return
    changed = barcode[:index] + digit + barcode[index + 1 :]
    detected = barcode_mismatches(changed) != ()
    if index == 4:
        assert detected  # the check digit itself changed, the payload did not
    elif not detected:
        # Modulo 11 with prime 11 always moves the remainder; only the three remainders that
        # all print as DV 1 can hide the change.
        assert _general_remainder(barcode) in _PRINTED_AS_ONE
        assert _general_remainder(changed) in _PRINTED_AS_ONE
        assert _general_remainder(changed) != _general_remainder(barcode)


@given(barcodes(), st.integers(0, 46), _digits)
def test_single_digit_change_in_linha(barcode: str, index: int, digit: str) -> None:
    linha = barcode_to_linha(barcode)
    if linha[index] == digit:
        return
    changed = linha[:index] + digit + linha[index + 1 :]
    detected = linha_mismatches(changed) != ()
    if index <= 32:
        # Fields 1-3 carry modulo 10 DVs, which catch every single-digit change; field 4 is the
        # general DV itself.
        assert detected
    elif not detected:
        changed_barcode = changed[0:4] + changed[32] + changed[33:] + changed[4:9]
        changed_barcode += changed[10:20] + changed[21:31]
        assert _general_remainder(barcode) in _PRINTED_AS_ONE
        assert _general_remainder(changed_barcode) in _PRINTED_AS_ONE
