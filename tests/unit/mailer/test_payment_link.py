"""Every e-mail links to the debtor's page when the deployment has one: the boleto e-mail
and each notice, in the text and (clickable) in the HTML, signed for that debt."""

from __future__ import annotations

import datetime as dt
import email
from email.message import EmailMessage
from email.policy import default

import pytest

from boletos.platform.payment_links import new_key_line, parse_keys
from mailer_service.domain import BoletoMail, MailSettings, compose
from mailer_service.domain.delivery import DeliveryKind, Queued
from mailer_service.domain.notices import compose_notice
from mailer_service.domain.payment_link import PaymentLinks

KEYS = parse_keys(new_key_line("k1"))
LINKS = PaymentLinks("https://pagar.example.com", KEYS, days_after_due=30)
DUE = dt.date(2026, 12, 1)
BOLETO = BoletoMail(
    debt_id="528c1f0e-1921-42a9-931d-54ab45309bc0",
    upload_id="upload-1",
    payer_name="Lisa Wright",
    email="lisa@example.com",
    amount_cents=123_456,
    due_date=DUE,
    digitable_line="00190.00009 01234.567890 12345.678901 2 12340000123456",
    nosso_numero="12345670000000001",
)
PDF = b"%PDF-1.4\n%%EOF\n"
DATE = dt.datetime(2026, 11, 26, 12, 30, tzinfo=dt.UTC)


def _bodies(data: bytes) -> tuple[str, str]:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def _link_in(text: str) -> str:
    [url] = [w for w in text.split() if w.startswith("https://pagar.example.com/p/")]
    return url


def test_the_boleto_e_mail_links_to_the_debtors_page() -> None:
    settings = MailSettings(from_address="cobranca@example.com", links=LINKS)
    text, html = _bodies(compose(BOLETO, PDF, settings, date=DATE))
    url = _link_in(text)
    link = KEYS.verify(url.rsplit("/", 1)[1], DUE)
    assert (link.debt_id, link.last_day) == (BOLETO.debt_id, DUE + dt.timedelta(days=30))
    assert f'<a href="{url}">' in html


@pytest.mark.parametrize(
    "kind", [DeliveryKind.REMINDER, DeliveryKind.OVERDUE_NOTICE, DeliveryKind.UPDATED]
)
def test_every_notice_links_to_it_too(kind: DeliveryKind) -> None:
    settings = MailSettings(from_address="cobranca@example.com", links=LINKS)
    extra = {"instruction_id": "i-1"} if kind == DeliveryKind.UPDATED else {}
    queued = Queued(BOLETO, attempts=1, kind=kind, **extra)  # type: ignore[arg-type]
    text, html = _bodies(compose_notice(queued, PDF, settings, date=DATE).data)
    url = _link_in(text)
    assert KEYS.verify(url.rsplit("/", 1)[1], DUE).debt_id == BOLETO.debt_id
    assert f'<a href="{url}">' in html


def test_without_a_public_address_no_link() -> None:
    text, html = _bodies(
        compose(BOLETO, PDF, MailSettings(from_address="c@example.com"), date=DATE)
    )
    assert "/p/" not in text and "/p/" not in html
