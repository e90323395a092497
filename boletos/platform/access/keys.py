"""API keys: `bk_<id>_<secret>`, shown once when made; only the id and a scrypt hash of the
secret are kept, so a copy of the key directory gives no usable key.

scrypt (RFC 7914, in the standard library) is slow on purpose: tens of milliseconds and
16 MiB per check, which makes guessing a secret offline expensive. Services check a presented
key once and remember the result for a while (see directory.py), so calls do not pay it each
time; a key whose id is unknown or revoked costs the same scrypt (`burn`), so how long a
refusal takes does not tell which ids exist.

Records come from a bucket anyone with NATS access can write to: `KeyRecord.from_json` checks
every field and raises InvalidRecord, naming what was wrong but never quoting the record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from boletos.platform.access.roles import Role

PREFIX = "bk"
ID_BYTES = 6  # 12 hex digits: enough to name keys, never secret
SECRET_BYTES = 32
# scrypt cost: N=2^14, r=8 (16 MiB), p=1, as RFC 7914 suggests for interactive logins.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
KEY_ID = re.compile(rf"[0-9a-f]{{{2 * ID_BYTES}}}")
HEX = re.compile(r"(?:[0-9a-f]{2})+")
DIGEST_HEX = 64  # dklen 32
# What unknown and revoked ids are checked against: never matches, costs a real scrypt.
_DUMMY_SALT = secrets.token_bytes(16)


class MalformedKey(ValueError):
    """Not shaped like an API key; never says more, the value may be a secret."""


class InvalidRecord(ValueError):
    """A stored record that cannot be used. `reason` is a fixed word (for logs and metrics),
    never a piece of the record, which may hold anything."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class KeyRecord:
    """What a service keeps of a key: who it is for and a hash of its secret."""

    key_id: str
    name: str
    role: Role
    salt: str  # hex
    digest: str  # hex scrypt(secret, salt)
    created_at: str  # ISO 8601, UTC
    revoked_at: str = ""
    # The beneficiaries an uploader key may upload for; empty: every one.
    beneficiaries: tuple[str, ...] = ()

    @property
    def revoked(self) -> bool:
        return bool(self.revoked_at)

    def revoke(self, at: dt.datetime) -> KeyRecord:
        return replace(self, revoked_at=at.isoformat())

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> KeyRecord:
        """The record, or InvalidRecord for anything but one this code would have written."""
        try:
            found = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise InvalidRecord("not_json") from None
        if not isinstance(found, dict):
            raise InvalidRecord("not_an_object")
        known = {f.name for f in fields(cls)}
        if found.keys() - known:
            raise InvalidRecord("unknown_field")
        if _REQUIRED - found.keys():
            raise InvalidRecord("missing_field")
        return cls(
            key_id=_checked(found, "key_id", lambda v: isinstance(v, str) and _is(KEY_ID, v)),
            name=_checked(found, "name", lambda v: isinstance(v, str)),
            role=Role(_checked(found, "role", lambda v: v in _ROLES)),
            salt=_checked(found, "salt", lambda v: isinstance(v, str) and _is(HEX, v)),
            digest=_checked(
                found,
                "digest",
                lambda v: isinstance(v, str) and len(v) == DIGEST_HEX and _is(HEX, v),
            ),
            created_at=_checked(found, "created_at", _is_instant),
            revoked_at=_checked(found, "revoked_at", lambda v: v == "" or _is_instant(v), ""),
            beneficiaries=tuple(
                _checked(
                    found,
                    "beneficiaries",
                    lambda v: isinstance(v, list) and all(isinstance(b, str) for b in v),
                    [],
                )
            ),
        )


_REQUIRED = frozenset({"key_id", "name", "role", "salt", "digest", "created_at"})
_ROLES = frozenset(role.value for role in Role)


def _checked(found: dict[str, Any], field: str, valid: Any, default: Any = None) -> Any:
    value = found.get(field, default)
    if not valid(value):
        raise InvalidRecord(f"bad_{field}")
    return value


def _is(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None


def _is_instant(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def well_formed_id(value: str) -> bool:
    """Whether `value` is shaped like a key id, and so may be logged."""
    return _is(KEY_ID, value)


def new_key(
    name: str, role: Role, now: dt.datetime, beneficiaries: tuple[str, ...] = ()
) -> tuple[str, KeyRecord]:
    """A fresh key (to show once) and its record (to keep)."""
    key_id = secrets.token_hex(ID_BYTES)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key = f"{PREFIX}_{key_id}_{secret}"
    return key, replace(record_for(key, name, role, now), beneficiaries=beneficiaries)


def record_for(key: str, name: str, role: Role, now: dt.datetime) -> KeyRecord:
    """The record of a key made elsewhere (a secret file, say)."""
    key_id, secret = parse(key)
    salt = secrets.token_bytes(16)
    return KeyRecord(
        key_id=key_id,
        name=name,
        role=role,
        salt=salt.hex(),
        digest=_hash(secret, salt).hex(),
        created_at=now.isoformat(),
    )


def parse(key: str) -> tuple[str, str]:
    """(id, secret) of a key, or MalformedKey."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not well_formed_id(key_id) or len(secret) < 16:
        raise MalformedKey("not an API key")
    return key_id, secret


def matches(record: KeyRecord, secret: str) -> bool:
    expected = bytes.fromhex(record.digest)
    return hmac.compare_digest(_hash(secret, bytes.fromhex(record.salt)), expected)


def burn(secret: str) -> bool:
    """The work `matches` does, for an id with no usable record: always False."""
    _hash(secret, _DUMMY_SALT)
    return False


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret.encode(),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=SCRYPT_MAXMEM,
        dklen=32,
    )
