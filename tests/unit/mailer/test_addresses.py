from __future__ import annotations

from email.headerregistry import Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer_service.domain import InvalidMailSettings, InvalidRecipient, MailSettings
from mailer_service.domain.addresses import _PLAIN_ADDRESS, parse_recipient


@pytest.mark.parametrize(
    "address",
    [
        "george64@example.net",
        "first.last+boleto@mail.example.com.br",
        "o'brien@example.org",
        "x@localhost",
        '"two words"@example.com',
        "a@[192.0.2.1]",
        "a" * 64 + "@example.com",
    ],
)
def test_valid_addresses_are_returned_unchanged(address: str) -> None:
    assert parse_recipient(address) == address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("", "not a valid address"),
        ("joao@example.com\r\nBcc: evil@example.com", "line break"),
        ("joao@example.com\nBcc: evil@example.com", "line break"),
        ("joao@example.com\r", "line break"),
        ("joao@example.com, evil@example.com", "not a valid address"),
        ("joao@example.com; evil@example.com", "not a valid address"),
        ("João <joao@example.com>", "not ASCII"),
        ("Joao <joao@example.com>", "not a valid address"),
        ("<joao@example.com>", "not a valid address"),
        ("joao@example.com (comment)", "normal form"),
        ('"joao"@example.com', "normal form"),
        ("joão@example.com", "not ASCII"),
        ("joao@exämple.com", "not ASCII"),
        ("joao@", "not a valid address"),
        ("@example.com", "not a valid address"),
        ("joao", "not a valid address"),
        ("jo ao@example.com", "not a valid address"),
        ("jo..ao@example.com", "not a valid address"),
        (".joao@example.com", "not a valid address"),
        ("joao@example..com", "not a valid address"),
        ("joao\t@example.com", "control characters"),
        ("joao\x00@example.com", "control characters"),
        ("a" * 65 + "@example.com", "local part over 64"),
        ("a@" + "b" * 250 + ".com", "longer than 254"),
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    with pytest.raises(InvalidRecipient, match=reason):
        parse_recipient(address)


def test_a_non_string_address_is_refused() -> None:
    with pytest.raises(InvalidRecipient):
        parse_recipient(None)  # type: ignore[arg-type]


@given(st.from_regex(_PLAIN_ADDRESS, fullmatch=True))
def test_the_fast_path_admits_only_what_the_email_package_admits_unchanged(address: str) -> None:
    # The regex skips the parser for common addresses; it must never admit more than it.
    assert Address(addr_spec=address).addr_spec == address


@pytest.mark.parametrize(
    ("from_address", "reason"),
    [
        ("", "must be an address"),
        ("Cobranças", "malformed|exactly one"),
        ("a@example.com, b@example.com", "exactly one"),
        ("Lista: a@example.com, b@example.com;", "exactly one"),
        ("Cobranças <cobranca@example.com>\r\nBcc: evil@example.com", "line break"),
        ("Cobranças <cobranca@[192.0.2.1]>", "host name"),
        ("Cobranças <cobrança@example.com>", "non-ASCII|not ASCII"),
    ],
)
def test_unusable_sender_addresses_are_refused_at_configuration(
    from_address: str, reason: str
) -> None:
    with pytest.raises(InvalidMailSettings, match=reason):
        MailSettings(from_address=from_address)


def test_reply_to_is_validated_too() -> None:
    with pytest.raises(InvalidMailSettings, match="reply_to"):
        MailSettings(from_address="cobranca@example.com", reply_to="a@example.com, b@example.com")
