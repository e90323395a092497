"""The access table: complete, documented, and applied the way docs/access-and-security.md says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from boletos.platform.access import transport
from boletos.platform.access.keys import MalformedKey, matches, new_key, parse, record_for
from boletos.platform.access.roles import ACCESS, PAYMENT_LINKS, PUBLIC, Role
from boletos.v1 import boleto_pb2, ingest_pb2, keys_pb2, mailer_pb2

ROOT = Path(__file__).resolve().parents[2]
ORDER = [Role.UPLOADER, Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.SERVICE]
NOW = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


def _every_rpc() -> set[str]:
    methods = set()
    for module in (ingest_pb2, boleto_pb2, mailer_pb2, keys_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            methods |= {f"/{service.full_name}/{m.name}" for m in service.methods}
    return methods


def test_every_rpc_of_every_service_is_in_the_table() -> None:
    assert _every_rpc() - set(ACCESS) == PAYMENT_LINKS
    assert not PUBLIC & set(ACCESS)


def test_the_documented_table_is_the_code_table() -> None:
    doc = (ROOT / "docs" / "access-and-security.md").read_text()
    documented = {}
    for line in doc.splitlines():
        match = re.match(r"\| `([\w./]+)` \|(.*)\|$", line)
        if not match or "/" not in match[1]:
            continue
        cells = [c.strip() for c in match[2].split("|")]
        roles = {role for role, cell in zip(ORDER, cells, strict=False) if cell in ("yes", "own")}
        own = cells[0] == "own"
        documented[match[1]] = (roles, own, cells[-1] == "yes")
    expected = {
        method.strip("/").replace("boletos.v1.", ""): (
            set(rule.roles),
            rule.own_uploads,
            rule.audited,
        )
        for method, rule in ACCESS.items()
    }
    assert documented == expected


def test_only_an_uploader_is_limited_to_its_own_uploads() -> None:
    rule = ACCESS["/boletos.v1.IngestService/GetUpload"]
    assert rule.limited_to_own_uploads({Role.UPLOADER})
    assert not rule.limited_to_own_uploads({Role.UPLOADER, Role.VIEWER})
    assert not rule.limited_to_own_uploads({Role.VIEWER})
    assert not ACCESS["/boletos.v1.IngestService/Upload"].limited_to_own_uploads({Role.UPLOADER})


def test_a_key_is_shown_once_and_kept_as_a_hash() -> None:
    key, record = new_key("ci", Role.UPLOADER, NOW)
    key_id, secret = parse(key)
    assert key.startswith(f"bk_{key_id}_") and record.key_id == key_id
    assert secret not in record.to_json().decode()
    assert matches(record, secret)
    assert not matches(record, secret[:-1] + ("A" if secret[-1] != "A" else "B"))


def test_a_key_made_elsewhere_gets_a_record_that_matches_it() -> None:
    key, _ = new_key("x", Role.ADMIN, NOW)
    record = record_for(key, "from a file", Role.ADMIN, NOW)
    assert matches(record, parse(key)[1])
    assert record.revoke(NOW).revoked


def test_malformed_keys_are_refused_without_saying_how() -> None:
    for bad in ("", "bk_", "bk_zzzzzzzzzzzz_secretsecretsecret", "xx_0123456789ab_secretsecretsec"):
        try:
            parse(bad)
        except MalformedKey as exc:
            assert str(exc) == "not an API key"
        else:
            raise AssertionError(bad)


@pytest.mark.parametrize(
    ("target", "authority"),
    [
        ("ipv4:127.0.0.1:5001,127.0.0.1:5002", [("grpc.default_authority", "127.0.0.1")]),
        ("ipv6:[::1]:5001,[::1]:5002", [("grpc.default_authority", "[::1]")]),
        ("ipv4:127.0.0.1:5001", []),
        ("dns:///boleto:50052", []),
        ("127.0.0.1:5001", []),
    ],
)
def test_a_multi_address_target_is_checked_against_its_first_host(
    target: str, authority: list[tuple[str, str]]
) -> None:
    assert transport._authority(target, ()) == authority
