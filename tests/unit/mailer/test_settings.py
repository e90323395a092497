from __future__ import annotations

from typing import Any

import pytest

from mailer_service.domain import InvalidMailSettings, MailSettings
from mailer_service.domain.templates import DEFAULT_HTML, DEFAULT_SUBJECT, DEFAULT_TEXT, FIELDS


def test_defaults_use_only_known_placeholders() -> None:
    settings = MailSettings(from_address="cobranca@example.com")
    assert settings.subject_template == DEFAULT_SUBJECT
    assert settings.text_template == DEFAULT_TEXT
    assert settings.html_template == DEFAULT_HTML
    assert settings.reply_to is None
    assert settings.prepared.reply_to_header is None
    for template in (DEFAULT_SUBJECT, DEFAULT_TEXT, DEFAULT_HTML):
        assert "$amount" in template and "$due_date" in template


def test_sender_is_parsed_and_encoded_once() -> None:
    settings = MailSettings(
        from_address="Cobranças Exemplo <cobranca@example.com>",
        reply_to="Atendimento <atendimento@example.com>",
    )
    prepared = settings.prepared
    assert prepared.sender.addr_spec == "cobranca@example.com"
    assert prepared.sender.display_name == "Cobranças Exemplo"
    assert prepared.sender_name == "Cobranças Exemplo"
    assert prepared.from_header == "=?utf-8?q?Cobran=C3=A7as_Exemplo?= <cobranca@example.com>"
    assert prepared.reply_to_header == "Atendimento <atendimento@example.com>"


def test_sender_name_falls_back_to_the_address() -> None:
    assert MailSettings(from_address="cobranca@example.com").prepared.sender_name == (
        "cobranca@example.com"
    )


def test_settings_compare_by_their_fields() -> None:
    assert MailSettings("a@example.com") == MailSettings("a@example.com")
    assert hash(MailSettings("a@example.com")) == hash(MailSettings("a@example.com"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"subject_template": "Boleto de $valor"}, "unknown placeholder.*valor"),
        ({"text_template": "Olá ${payer_name"}, "malformed placeholder"),
        ({"html_template": "<p>R$ 10</p>"}, "malformed placeholder"),
        ({"subject_template": "Boleto\r\nBcc: evil@example.com"}, "single line"),
        ({"subject_template": "Boleto\nde $amount"}, "single line"),
        ({"text_template": ""}, "non-empty"),
    ],
)
def test_bad_templates_fail_at_configuration(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidMailSettings, match=reason):
        MailSettings(from_address="cobranca@example.com", **overrides)


def test_every_field_may_be_used() -> None:
    subject = " ".join(f"${name}" for name in sorted(FIELDS))
    MailSettings(from_address="cobranca@example.com", subject_template=subject)
