from __future__ import annotations

import pytest

from mailer_service.domain import InvalidBoletoMail, MailSettings, message_id

DEBT_ID = "528c1f0e-1921-42a9-931d-54ab45309bc0"


def test_message_id_is_the_debt_id_at_the_domain() -> None:
    assert message_id(DEBT_ID, "example.com") == f"<boleto-{DEBT_ID}@example.com>"


def test_message_id_is_deterministic_and_case_insensitive_in_the_domain() -> None:
    assert message_id(DEBT_ID, "Example.COM") == message_id(DEBT_ID, "example.com")


def test_message_id_differs_per_debt() -> None:
    other = "a9ed8b8e-9a1e-458c-8f0d-e795b8d61bab"
    assert message_id(DEBT_ID, "example.com") != message_id(other, "example.com")


@pytest.mark.parametrize(
    ("from_address", "domain"),
    [
        ("Cobranças Exemplo <cobranca@example.com>", "example.com"),
        ("cobranca@mail.Exemplo.com.br", "mail.exemplo.com.br"),
        ('"Exemplo, Ltda." <no-reply@boletos.example.org>', "boletos.example.org"),
    ],
)
def test_the_domain_comes_from_the_from_address(from_address: str, domain: str) -> None:
    settings = MailSettings(from_address=from_address)
    assert message_id(DEBT_ID, settings.prepared.sender.domain) == f"<boleto-{DEBT_ID}@{domain}>"


@pytest.mark.parametrize(
    "debt_id",
    ["", "a b", "x>\r\nBcc: evil@example.com", "a@b", "a.b", "-leading", "é", "x" * 65],
)
def test_unusable_debt_ids_are_refused(debt_id: str) -> None:
    with pytest.raises(InvalidBoletoMail):
        message_id(debt_id, "example.com")


@pytest.mark.parametrize("domain", ["", "exa mple.com", "example.com>", "[127.0.0.1]", "a..b"])
def test_unusable_domains_are_refused(domain: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        message_id(DEBT_ID, domain)


def test_each_kind_of_e_mail_has_its_own_prefix() -> None:
    assert message_id(DEBT_ID, "example.com", "reminder") == f"<reminder-{DEBT_ID}@example.com>"
    assert message_id(DEBT_ID, "example.com", "boleto") == message_id(DEBT_ID, "example.com")
    for prefix in ("", "Reminder", "re-minder", "x" * 17, "a>b"):
        with pytest.raises(ValueError, match="prefix"):
            message_id(DEBT_ID, "example.com", prefix)
