"""The record template remessas write their detail segments with: checked once when made,
every record checked whole when filled."""

from __future__ import annotations

import pytest

from boleto_service.domain.cnab240.fields import (
    CnabFieldError,
    RecordTemplate,
    TemplatePart,
    alpha,
    build_record,
    given,
    num,
    number,
    text,
)

PARTS: list[TemplatePart] = [
    (1, 3, "001"),
    (4, 8, number("record")),
    (9, 9, "%"),  # a constant that looks like a format spec stays itself
    (10, 29, text("name")),
    (30, 37, given("day")),
    (38, 37, ""),  # an empty filler, as a bank whose field takes every position leaves
    (38, 52, number("amount")),
    (53, 240, " " * 188),
]
NAMES = ("record", "name", "day", "amount")


def test_a_filled_template_is_the_record_its_parts_build() -> None:
    template = RecordTemplate(PARTS, NAMES)
    record = template.fill((7, "MARIA DA CONCEICAO DE SOUZA E SILVA", "20122026", 12_345))
    assert record == build_record([
        (1, 3, "001"),
        (4, 8, num(7, 5)),
        (9, 9, "%"),
        (10, 29, alpha("Maria da Conceição de Souza e Silva", 20)),
        (30, 37, "20122026"),
        (38, 52, num(12_345, 15)),
        (53, 240, " " * 188),
    ])  # fmt: skip


def test_a_number_too_wide_for_its_field_is_refused_naming_the_field() -> None:
    template = RecordTemplate(PARTS, NAMES)
    with pytest.raises(CnabFieldError, match=r"field 38-52 \(amount\) got 16 characters"):
        template.fill((1, "A", "20122026", 10**15))


def test_a_given_value_too_wide_is_refused_naming_the_field() -> None:
    template = RecordTemplate(PARTS, NAMES)
    with pytest.raises(CnabFieldError, match=r"field 30-37 \(day\) got 9 characters"):
        template.fill((1, "A", "201220261", 5))


def test_text_that_is_not_ascii_is_refused() -> None:
    template = RecordTemplate(PARTS, NAMES)
    with pytest.raises(CnabFieldError, match=r"field 10-29 \(name\)"):
        template.fill((1, "São", "20122026", 5))


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([(1, 3, "001"), (5, 240, " " * 236)], "position 4 was expected next"),
        ([(1, 3, "001"), (4, 239, " " * 236)], "ends at position 239"),
        ([(1, 3, "01"), (4, 240, " " * 237)], "field 1-3 got 2 characters"),
        ([(1, 3, "001"), (4, 3, number("x")), (4, 240, " " * 237)], "expected next"),
    ],
)
def test_a_template_whose_parts_do_not_tile_the_record_is_refused_when_made(
    parts: list[TemplatePart], message: str
) -> None:
    with pytest.raises(CnabFieldError, match=message):
        RecordTemplate(parts, ("x",) if len(parts) == 3 else ())


def test_values_named_in_another_order_than_the_slots_are_refused_when_made() -> None:
    with pytest.raises(ValueError, match="slots are"):
        RecordTemplate(PARTS, ("record", "day", "name", "amount"))


def test_slots_fixed_once_fill_as_the_template_fills_them_per_record() -> None:
    template = RecordTemplate(PARTS, NAMES)
    fixed = template.fixed({"day": "00000000", "amount": 0})
    assert fixed.fill((7, "ANA")) == template.fill((7, "ANA", "00000000", 0))
    # A value fixed too wide for its field is refused when the template is made.
    with pytest.raises(CnabFieldError, match="field 38-52 got 16 characters"):
        template.fixed({"amount": 10**15})
