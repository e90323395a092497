"""The boleto service's second look at a DebtsImported debt: every text field refuses the
C0 controls and DEL wherever they stand, and nothing else a name or address may hold."""

from __future__ import annotations

from typing import Any

import pytest

from boleto_service.service.issuing import malformed
from boletos.v1 import events_pb2
from tests.support.boleto import imported_debt

TEXT_FIELDS = ("name", "address", "district", "city", "email")
CONTROLS = [chr(c) for c in range(32)] + ["\x7f"]


def _debt(**fields: Any) -> events_pb2.ImportedDebt:
    address = {"address": "Rua São Bento, 365", "district": "Centro", "city": "São Paulo"}
    return imported_debt(**(address | fields))


def _with(field: str, inserted: str) -> events_pb2.ImportedDebt:
    value = str(getattr(_debt(), field))
    at = value.index("@") if field == "email" else 3
    return _debt(**{field: value[:at] + inserted + value[at:]})


def test_a_good_debt_passes() -> None:
    assert malformed(_debt()) is None


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: f"{ord(c):#04x}")
def test_a_control_character_anywhere_is_refused_by_its_field(field: str, control: str) -> None:
    refused = malformed(_with(field, control))
    assert refused is not None
    assert refused[0] == field


@pytest.mark.parametrize("field", ("name", "address", "district", "city"))
@pytest.mark.parametrize("kept", ["~", "\x80", "ç", "Ñ", "\u2028", "😀"], ids=ascii)
def test_printable_and_non_ascii_text_is_kept(field: str, kept: str) -> None:
    assert malformed(_with(field, kept)) is None
