"""Debtors' payment links: `PUBLIC_BASE_URL/p/TOKEN`, TOKEN an HMAC-signed reference to one
boleto and the last day it may be used. The mailer signs the links it puts in e-mails; the
boleto service checks them before answering the debtor's page. Nobody without the key can
make a token that passes, and a token says nothing a guess could use: no sequence, no
personal data (the debt id only, which is the creditor's own reference).

Keys rotate without breaking the links already sent: the key file lists the current key
first, which signs, and older ones after it, which still verify until their own end date.

    # PAYMENT_LINK_KEYS_FILE: one key a line, "id secret [last-day]", current first
    k2 8f1c...e4
    k1 2a77...09 2027-03-31
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets as random_secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from boletos.platform.env import ConfigError, env_str

VERSION = "1"
# 128 bits of MAC: a guess passes once in 2**128 tries.
MAC_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 512


class InvalidLink(ValueError):
    """A token that is not one of ours: malformed, forged, or signed by a retired key."""


class ExpiredLink(ValueError):
    """A genuine token past its last day; `debt_id` says whose boleto it was."""

    def __init__(self, debt_id: str, last_day: dt.date) -> None:
        super().__init__(f"the link ended on {last_day.isoformat()}")
        self.debt_id = debt_id
        self.last_day = last_day


class InvalidLinkKeys(ValueError):
    """A key file the services cannot use; the message names the line."""


@dataclass(frozen=True)
class LinkKey:
    key_id: str
    secret: bytes = field(repr=False)
    # The last day an older key still verifies; None for the current one (or no end).
    retired_after: dt.date | None = None


@dataclass(frozen=True)
class Link:
    debt_id: str
    last_day: dt.date


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise InvalidLink("not a link token")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise InvalidLink("not a link token") from None
    # One spelling per token: base64's unused low bits would let a link be written in
    # several ways, each passing.
    if _b64(data) != text:
        raise InvalidLink("not a link token")
    return data


class LinkKeys:
    def __init__(self, keys: list[LinkKey]) -> None:
        if not keys:
            raise InvalidLinkKeys("no key")
        ids = [k.key_id for k in keys]
        if len(set(ids)) != len(ids):
            raise InvalidLinkKeys("a key id appears twice")
        self.keys = tuple(keys)
        self._by_id = {k.key_id: k for k in keys}

    @property
    def current(self) -> LinkKey:
        return self.keys[0]

    def sign(self, debt_id: str, last_day: dt.date) -> str:
        key = self.current
        body = f"{VERSION}.{key.key_id}.{_b64(debt_id.encode())}.{last_day:%Y%m%d}"
        return f"{body}.{_b64(_mac(key, body))}"

    def verify(self, token: str, today: dt.date) -> Link:
        """The link a token names, or InvalidLink / ExpiredLink."""
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidLink("not a link token")
        parts = token.split(".")
        if len(parts) != 5 or parts[0] != VERSION:
            raise InvalidLink("not a link token")
        _, key_id, debt, day, mac = parts
        key = self._by_id.get(key_id)
        body = ".".join(parts[:4])
        # Compared in constant time, and only then is anything else looked at.
        if key is None or not hmac.compare_digest(_unb64(mac), _mac(key, body)):
            raise InvalidLink("not a link token")
        if key.retired_after is not None and today > key.retired_after:
            raise InvalidLink("signed by a retired key")
        try:
            debt_id = _unb64(debt).decode("utf-8")
            last_day = dt.datetime.strptime(day, "%Y%m%d").date()
        except ValueError:
            raise InvalidLink("not a link token") from None
        if today > last_day:
            raise ExpiredLink(debt_id, last_day)
        return Link(debt_id, last_day)


def _mac(key: LinkKey, body: str) -> bytes:
    return hmac.new(key.secret, body.encode("ascii"), hashlib.sha256).digest()[:MAC_BYTES]


def parse_keys(text: str) -> LinkKeys:
    keys = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) not in (2, 3) or not KEY_ID.fullmatch(fields[0]):
            raise InvalidLinkKeys(f"line {number}: expected 'id secret [last-day]'")
        try:
            secret = bytes.fromhex(fields[1])
        except ValueError:
            raise InvalidLinkKeys(f"line {number}: the secret must be hex") from None
        if len(secret) < MIN_SECRET_BYTES:
            raise InvalidLinkKeys(f"line {number}: the secret needs {MIN_SECRET_BYTES} bytes")
        retired = None
        if len(fields) == 3:
            try:
                retired = dt.date.fromisoformat(fields[2])
            except ValueError:
                raise InvalidLinkKeys(f"line {number}: last day as YYYY-MM-DD") from None
        keys.append(LinkKey(fields[0], secret, retired))
    return LinkKeys(keys)


def read_keys(path: str) -> LinkKeys:
    try:
        return parse_keys(Path(path).read_text())
    except OSError as exc:
        raise InvalidLinkKeys(f"cannot read it: {exc.strerror}") from None


def new_key_line(key_id: str = "k1") -> str:
    return f"{key_id} {random_secrets.token_hex(MIN_SECRET_BYTES)}\n"


def keys_from_env(env: Mapping[str, str]) -> LinkKeys | None:
    """PAYMENT_LINK_KEYS_FILE's keys; None when it is unset (no payment links)."""
    path = env_str(env, "PAYMENT_LINK_KEYS_FILE", "")
    if not path:
        return None
    try:
        return read_keys(path)
    except InvalidLinkKeys as exc:
        raise ConfigError(f"PAYMENT_LINK_KEYS_FILE: {exc}") from None
