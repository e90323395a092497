from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import date, datetime
from typing import Any

import pytest

from boletos.v1 import events_pb2
from mailer_service.domain import BoletoMail, InvalidBoletoMail

DEBT_ID = "528c1f0e-1921-42a9-931d-54ab45309bc0"
UPLOAD_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
LINHA = "00190.00009 01234.567890 12345.678901 2 12340000123456"


def _event(**overrides: object) -> events_pb2.IssuedBoleto:
    fields: dict[str, Any] = {
        "debt_id": DEBT_ID,
        "upload_id": UPLOAD_ID,
        "payer_name": "São João",
        "email": "joao@example.com",
        "amount_cents": 123_456,
        "due_date": "2026-12-01",
        "digitable_line": LINHA,
        "barcode": "0019" + "1" * 40,
        "nosso_numero": "12345670000000001",
    }
    fields.update(overrides)
    return events_pb2.IssuedBoleto(**fields)


def test_from_event() -> None:
    mail = BoletoMail.from_event(_event())
    assert mail == BoletoMail(
        debt_id=DEBT_ID,
        upload_id=UPLOAD_ID,
        payer_name="São João",
        email="joao@example.com",
        amount_cents=123_456,
        due_date=date(2026, 12, 1),
        digitable_line=LINHA,
        nosso_numero="12345670000000001",
    )
    with pytest.raises(FrozenInstanceError):
        mail.email = "other@example.com"  # type: ignore[misc]


def test_from_event_does_not_check_the_email() -> None:
    # The recipient is judged when composing, which reports it as InvalidRecipient.
    assert BoletoMail.from_event(_event(email="not an address")).email == "not an address"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"due_date": "01/12/2026"}, "ISO 8601"),
        ({"due_date": ""}, "ISO 8601"),
        ({"amount_cents": -1}, "out of range"),
        ({"amount_cents": 10_000_000_000}, "out of range"),
        ({"debt_id": "x\r\nBcc: evil@example.com"}, "debt id"),
        ({"debt_id": ""}, "debt id"),
        ({"upload_id": ""}, "upload id"),
        ({"upload_id": "x" * 36}, "upload id"),
        ({"upload_id": UPLOAD_ID.upper()}, "upload id"),
    ],
)
def test_unusable_events_are_refused(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidBoletoMail, match=reason):
        BoletoMail.from_event(_event(**overrides))


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount_cents", 12.5), ("amount_cents", True), ("due_date", datetime(2026, 12, 1))],
)
def test_types_are_checked(field: str, value: object) -> None:
    mail = BoletoMail.from_event(_event())
    fields = {name: getattr(mail, name) for name in BoletoMail.__dataclass_fields__}
    fields[field] = value
    with pytest.raises(InvalidBoletoMail):
        BoletoMail(**fields)
