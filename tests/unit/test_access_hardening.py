"""The credential checks' defences in isolation: strict key records, the same scrypt work for
every refusal, remembered keys forgotten on revocation, and the failure limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

import pytest
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from boletos.platform.access import keys as keys_module
from boletos.platform.access.directory import KeyDirectory
from boletos.platform.access.keys import InvalidRecord, KeyRecord, new_key
from boletos.platform.access.limits import FailureLimiter, peer_host
from boletos.platform.access.roles import Role

NOW = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def _good() -> dict[str, Any]:
    _, record = new_key("job", Role.VIEWER, NOW)
    data: dict[str, Any] = json.loads(record.to_json())
    return data


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"role": "superuser"}, "bad_role"),
        ({"key_id": "zzpoison"}, "bad_key_id"),
        ({"salt": "xyz"}, "bad_salt"),
        ({"digest": "ab"}, "bad_digest"),
        ({"created_at": "yesterday"}, "bad_created_at"),
        ({"revoked_at": 5}, "bad_revoked_at"),
        ({"beneficiaries": "acme"}, "bad_beneficiaries"),
        ({"name": None}, "bad_name"),
        ({"extra": 1}, "unknown_field"),
    ],
)
def test_a_record_with_a_bad_field_is_refused_by_name(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        KeyRecord.from_json(json.dumps({**_good(), **change}).encode())
    assert refused.value.reason == reason
    # The reason never quotes the record.
    assert "superuser" not in str(refused.value) and "zzpoison" not in str(refused.value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"{not json", "not_json"), (b"\xff\xfe", "not_json"), (b"[1]", "not_an_object")],
)
def test_what_is_not_a_record_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidRecord) as refused:
        KeyRecord.from_json(data)
    assert refused.value.reason == reason


def test_a_missing_field_is_refused_and_a_good_record_reads_back() -> None:
    good = _good()
    del good["salt"]
    with pytest.raises(InvalidRecord, match="missing_field"):
        KeyRecord.from_json(json.dumps(good).encode())
    _, record = new_key("job", Role.UPLOADER, NOW, ("acme",))
    assert KeyRecord.from_json(record.to_json()) == record


def _directory(*records: KeyRecord) -> KeyDirectory:
    # Memory only: these checks never reach the bucket.
    directory = KeyDirectory(kv=cast(KeyValue, None), js=cast(JetStreamContext, None))
    directory._records = {r.key_id: r for r in records}
    return directory


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Counts scrypt runs (fast ones: the count is what matters here)."""
    salts: list[bytes] = []
    real = keys_module._hash

    def counted(secret: str, salt: bytes) -> bytes:
        salts.append(salt)
        return real(secret, salt)

    monkeypatch.setattr(keys_module, "_hash", counted)
    return salts


async def test_every_refusal_costs_one_scrypt_whether_the_id_exists_or_not(hashes) -> None:
    key, record = new_key("job", Role.VIEWER, NOW)
    revoked_key, revoked = new_key("old", Role.VIEWER, NOW)
    directory = _directory(record, revoked.revoke(NOW))
    key_id = record.key_id
    tries = {
        "wrong secret": f"bk_{key_id}_{'W' * 43}",
        "unknown id": f"bk_{'0' * 12}_{'W' * 43}",
        "revoked": revoked_key,
    }
    for label, attempt in tries.items():
        hashes.clear()
        assert await directory.authenticate(attempt) is None, label
        assert len(hashes) == 1, label
    hashes.clear()
    assert await directory.authenticate("bk_short") is None
    assert hashes == []  # not shaped like a key: nothing to hide, nothing to hash


async def test_a_key_that_checked_out_is_remembered_until_revoked(hashes) -> None:
    key, record = new_key("job", Role.VIEWER, NOW)
    directory = _directory(record)
    hashes.clear()  # making the key hashed it
    assert await directory.authenticate(key) is not None
    assert await directory.authenticate(key) is not None
    assert directory.remembered(key) is not None
    assert len(hashes) == 1
    assert not any(key in repr(k) for k in directory._verified)  # kept by hash only

    directory._records[record.key_id] = record.revoke(NOW)
    assert directory.remembered(key) is None
    assert await directory.authenticate(key) is None


def test_failures_use_up_a_bucket_that_refills_with_time() -> None:
    now = [0.0]
    limiter = FailureLimiter(burst=3, per_second=0.5, clock=lambda: now[0])
    assert limiter.retry_after("k") == 0
    assert [limiter.failed("k") for _ in range(3)] == [False, False, True]
    assert limiter.retry_after("k") == 2
    assert limiter.retry_after("other") == 0
    now[0] = 2.0
    assert limiter.retry_after("k") == 0


def test_the_limiter_forgets_the_oldest_subjects_past_its_size() -> None:
    limiter = FailureLimiter(burst=1, per_second=0.1, max_subjects=2, clock=lambda: 0.0)
    for subject in ("a", "b", "c"):
        limiter.failed(subject)
    assert limiter.retry_after("a") == 0
    assert limiter.retry_after("c") > 0


def test_a_peer_is_its_address_without_the_port() -> None:
    assert peer_host("ipv4:10.0.0.7:51234") == "ipv4:10.0.0.7"
    assert peer_host("ipv6:[::1]:51234") == "ipv6:[::1]"
    assert peer_host("unix:/tmp/s") == "unix:/tmp/s"
