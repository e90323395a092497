"""Recipient and sender addresses: parsed strictly, so no address can smuggle in a header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import MessageError
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from typing import cast

from .errors import InvalidMailSettings, InvalidRecipient

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = rf"{_LABEL}(?:\.{_LABEL})*"
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# Dot-atom local part at a host name: every address this admits, the email package's parser
# admits unchanged, and it is most addresses, so the parser (about 20 µs) runs only for the rest.
_PLAIN_ADDRESS = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@{HOSTNAME}")
_HOSTNAME = re.compile(HOSTNAME)

MAX_ADDRESS_CHARS = 254  # RFC 5321's limit on a path, less the angle brackets
MAX_LOCAL_PART_CHARS = 64
# The parser raises more than ValueError on some inputs ("a@" gives an IndexError).
_PARSE_ERRORS = (ValueError, IndexError, MessageError)


def parse_recipient(address: str) -> str:
    """The payer's address as a bare addr-spec, or InvalidRecipient saying why not.

    Exactly one address in normal form: no display name, comment, list, whitespace or
    control character, and ASCII only since the mailer does not rely on SMTPUTF8.
    """
    if not isinstance(address, str):
        raise InvalidRecipient(f"e-mail must be a string, got {type(address).__name__}")
    if len(address) > MAX_ADDRESS_CHARS:
        raise InvalidRecipient(f"e-mail is longer than {MAX_ADDRESS_CHARS} characters")
    plain = _PLAIN_ADDRESS.fullmatch(address)
    if plain:
        local_part = plain.group(1)
    else:
        local_part = _parse_addr_spec(address).username
    if len(local_part) > MAX_LOCAL_PART_CHARS:
        raise InvalidRecipient(f"e-mail {address!r} has a local part over 64 characters")
    return address


def _parse_addr_spec(address: str) -> Address:
    if "\r" in address or "\n" in address:
        raise InvalidRecipient(f"e-mail {address!r} contains a line break")
    if not address.isascii():
        raise InvalidRecipient(f"e-mail {address!r} is not ASCII")
    if not address.isprintable():
        raise InvalidRecipient(f"e-mail {address!r} contains control characters")
    try:
        parsed = Address(addr_spec=address)
    except _PARSE_ERRORS as exc:
        raise InvalidRecipient(f"e-mail {address!r} is not a valid address: {exc}") from None
    if not parsed.username or not parsed.domain:
        raise InvalidRecipient(f"e-mail {address!r} lacks a local part or a domain")
    if parsed.addr_spec != address:
        # Comments, folding or redundant quotes: whatever the parser dropped would otherwise
        # reach the SMTP envelope unchecked.
        raise InvalidRecipient(f"e-mail {address!r} is not a bare address in normal form")
    return parsed


@dataclass(frozen=True, slots=True)
class Mailbox:
    """A configured address (From, Reply-To): display name and addr-spec, both validated."""

    display_name: str
    addr_spec: str

    @property
    def domain(self) -> str:
        return self.addr_spec.rpartition("@")[2]


_REGISTRY = HeaderRegistry()


def parse_mailbox(value: str, setting: str) -> Mailbox:
    """One mailbox such as 'Cobranças Exemplo <cobranca@example.com>', for configuration."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidMailSettings(f"{setting} must be an address, got {value!r}")
    if "\r" in value or "\n" in value:
        raise InvalidMailSettings(f"{setting} {value!r} contains a line break")
    try:
        header = _REGISTRY("from", value)
    except _PARSE_ERRORS as exc:
        raise InvalidMailSettings(f"{setting} {value!r} is not an address: {exc}") from None
    if header.defects:
        raise InvalidMailSettings(f"{setting} {value!r} is malformed: {header.defects[0]}")
    # The registry's class for an address field is a BaseHeader and an AddressHeader both.
    addresses = cast(AddressHeader, header)
    if len(addresses.addresses) != 1 or addresses.groups[0].display_name is not None:
        raise InvalidMailSettings(f"{setting} {value!r} must be exactly one address")
    address = addresses.addresses[0]
    try:
        addr_spec = parse_recipient(address.addr_spec)
    except InvalidRecipient as exc:
        raise InvalidMailSettings(f"{setting}: {exc}") from None
    if not _HOSTNAME.fullmatch(address.domain):
        raise InvalidMailSettings(f"{setting} {value!r} must have a host name as its domain")
    return Mailbox(display_name=address.display_name, addr_spec=addr_spec)
