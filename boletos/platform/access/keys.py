"""API keys: `bk_<id>_<secret>`, shown once when made; only the id and a scrypt hash of the
secret are kept, so a copy of the key directory gives no usable key.

scrypt (RFC 7914, in the standard library) is slow on purpose: about 30 ms and 16 MiB per
check, which makes guessing a secret offline expensive. Services check a presented key once
and remember the result (see directory.py), so calls do not pay it each time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, replace

from boletos.platform.access.roles import Role

PREFIX = "bk"
ID_BYTES = 6  # 12 hex digits: enough to name keys, never secret
SECRET_BYTES = 32
# scrypt cost: N=2^14, r=8 (16 MiB), p=1, as RFC 7914 suggests for interactive logins.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024


class MalformedKey(ValueError):
    """Not shaped like an API key; never says more, the value may be a secret."""


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
        fields = json.loads(data)
        fields["role"] = Role(fields["role"])
        fields["beneficiaries"] = tuple(fields.get("beneficiaries", ()))
        return cls(**fields)


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
    if (
        prefix != PREFIX
        or len(key_id) != 2 * ID_BYTES
        or any(c not in "0123456789abcdef" for c in key_id)
        or len(secret) < 16
    ):
        raise MalformedKey("not an API key")
    return key_id, secret


def matches(record: KeyRecord, secret: str) -> bool:
    expected = bytes.fromhex(record.digest)
    return hmac.compare_digest(_hash(secret, bytes.fromhex(record.salt)), expected)


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
