"""Every RPC of the three services, called with every kind of credential, through the real
services: the answers must be the access table's, exactly.

The cases are generated from `ACCESS`, so a new RPC is tested the day it is added to the
table (and `test_access_rules` fails the day one is served without being in it). A call the
table allows must reach the servicer: any answer but UNAUTHENTICATED or PERMISSION_DENIED
counts as let through, except UNKNOWN, INTERNAL and UNIMPLEMENTED, which would mean the call
broke on its way in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2

from boletos.platform.access.roles import ACCESS, REFLECTION, Role
from boletos.v1 import ingest_pb2, ingest_pb2_grpc, keys_pb2, keys_pb2_grpc
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import requests, running_ingest
from tests.support.mailer import running_mailer
from tests.support.processes import free_port
from tests.support.tokens import IdentityProvider
from tests.support.waiting import wait_until

LET_THROUGH = "let through"
BROKEN = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNIMPLEMENTED}

SERVED_BY = {
    "ingest": ("/boletos.v1.IngestService/", "/boletos.v1.KeyService/"),
    "boleto": ("/boletos.v1.BoletoService/",),
    "mailer": ("/boletos.v1.MailerService/",),
}


def methods_of(service: str) -> list[str]:
    """The service's RPCs in the table, and reflection, which every service serves."""
    return sorted(m for m in ACCESS if m.startswith(SERVED_BY[service]) or m in REFLECTION)


def test_every_rpc_in_the_table_is_tested() -> None:
    tested = {m for service in SERVED_BY for m in methods_of(service)}
    assert tested == set(ACCESS)


@dataclass(frozen=True)
class Credential:
    label: str
    bearer: str  # "" sends no authorization header
    roles: frozenset[Role] | None  # None: it must not get in

    def expected(self, method: str) -> str:
        if self.roles is None:
            return "UNAUTHENTICATED"
        return LET_THROUGH if ACCESS[method].allows(self.roles) else "PERMISSION_DENIED"


KEY_ROLES = {
    Role.UPLOADER: keys_pb2.KEY_ROLE_UPLOADER,
    Role.VIEWER: keys_pb2.KEY_ROLE_VIEWER,
    Role.OPERATOR: keys_pb2.KEY_ROLE_OPERATOR,
    Role.ADMIN: keys_pb2.KEY_ROLE_ADMIN,
    Role.SERVICE: keys_pb2.KEY_ROLE_SERVICE,
}


async def credentials(admin: grpc.aio.Channel, idp: IdentityProvider) -> list[Credential]:
    """A key and a token per role, and every way a credential can fail."""
    keys = keys_pb2_grpc.KeyServiceStub(admin)
    made = []
    for role, key_role in KEY_ROLES.items():
        created = await keys.CreateKey(keys_pb2.CreateKeyRequest(name=f"{role} key", role=key_role))
        made.append(Credential(f"{role} key", created.secret_key, frozenset({role})))
        token = idp.token(f"user-{role}", [role.value, "offline_access"])
        made.append(Credential(f"{role} token", token, frozenset({role})))
    revoked = await keys.CreateKey(
        keys_pb2.CreateKeyRequest(name="revoked", role=keys_pb2.KEY_ROLE_ADMIN)
    )
    await keys.RevokeKey(keys_pb2.RevokeKeyRequest(key_id=revoked.key.key_id))
    real = revoked.secret_key
    key_id = real.split("_")[1]
    everyone = [role.value for role in Role]
    refused = {
        "no credential": "",
        "not a key or token": "hunter2",
        "unknown key": f"bk_{'0' * 12}_{'A' * 43}",
        "known id, wrong secret": f"bk_{key_id}_{'B' * 43}",
        "revoked key": real,
        "expired token": idp.token("late", everyone, expires_in=-60),
        "token from another issuer": idp.token("x", everyone, issuer="https://evil.example"),
        "token for another audience": idp.token("x", everyone, audience="another-api"),
        "token signed by another key": idp.forged_token("x", everyone),
        "token without roles": idp.token("nobody", []),
    }
    made += [Credential(label, bearer, None) for label, bearer in refused.items()]
    # A token without roles is a valid identity that may call nothing.
    return [
        Credential(c.label, c.bearer, frozenset()) if c.label == "token without roles" else c
        for c in made
    ]


def _request_types(method: str) -> tuple[Any, Any, bool, bool]:
    if method in REFLECTION:
        return (
            reflection_pb2.ServerReflectionRequest,
            reflection_pb2.ServerReflectionResponse,
            True,
            True,
        )
    service, name = method.strip("/").split("/")
    found = descriptor_pool.Default().FindServiceByName(service).FindMethodByName(name)
    return (
        message_factory.GetMessageClass(found.input_type),
        message_factory.GetMessageClass(found.output_type),
        found.client_streaming,
        found.server_streaming,
    )


async def call(channel: grpc.aio.Channel, method: str, bearer: str) -> str:
    """Calls `method` with an empty (or, for reflection, a listing) request; returns what
    came of it."""
    request_type, response_type, client_streaming, server_streaming = _request_types(method)
    metadata = (("authorization", f"Bearer {bearer}"),) if bearer else ()
    request = (
        reflection_pb2.ServerReflectionRequest(list_services="")
        if method in REFLECTION
        else request_type()
    )

    async def one() -> AsyncIterator[Any]:
        yield request

    kinds: dict[tuple[bool, bool], Callable[..., Any]] = {
        (False, False): channel.unary_unary,
        (False, True): channel.unary_stream,
        (True, False): channel.stream_unary,
        (True, True): channel.stream_stream,
    }
    stub = kinds[(client_streaming, server_streaming)](
        method,
        request_serializer=request_type.SerializeToString,
        response_deserializer=response_type.FromString,
    )
    rpc = stub(one() if client_streaming else request, metadata=metadata, timeout=15)
    try:
        if server_streaming:
            await rpc.read()  # the first answer, or the refusal
            rpc.cancel()
        else:
            await rpc
    except grpc.aio.AioRpcError as exc:
        code = exc.code()
        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
            return code.name
        return code.name if code in BROKEN else LET_THROUGH
    return LET_THROUGH


def mismatches(
    results: dict[tuple[str, str], str], creds: Iterable[Credential], methods: list[str]
) -> list[str]:
    return [
        f"{method} with {cred.label}: expected {cred.expected(method)}, got {got}"
        for cred in creds
        for method in methods
        if (got := results[(method, cred.label)]) != cred.expected(method)
    ]


async def test_every_rpc_answers_every_credential_as_the_table_says(tmp_path, nats_server):
    idp = IdentityProvider.create(tmp_path)
    env = {**idp.service_env(), "GRPC_REFLECTION": "true"}
    async with contextlib.AsyncExitStack() as stack:
        ingest = await stack.enter_async_context(
            running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url, **env)
        )
        async with access.channel(ingest.address) as admin:
            creds = await credentials(admin, idp)
        # Started after the keys were made (and one revoked): they read them as they start.
        # How a key made later reaches a running service is the next test's.
        boleto = await stack.enter_async_context(
            running_boleto(f"sqlite:///{tmp_path / 'boleto.db'}", nats_server.url, **env)
        )
        mailer = await stack.enter_async_context(
            running_mailer(
                f"sqlite:///{tmp_path / 'mailer.db'}",
                nats_server.url,
                boleto.address,
                free_port(),
                **env,
            )
        )
        addresses = {"ingest": ingest.address, "boleto": boleto.address, "mailer": mailer.address}
        results: dict[tuple[str, str], str] = {}
        for service, address in addresses.items():
            async with access.channel(address, key="") as channel:
                for method in methods_of(service):
                    answers = await asyncio.gather(
                        *(call(channel, method, cred.bearer) for cred in creds)
                    )
                    for cred, answer in zip(creds, answers, strict=True):
                        results[(method, cred.label)] = answer
    assert mismatches(results, creds, sorted(ACCESS)) == []
    # Not vacuous: every role got through somewhere and was refused somewhere.
    for role in Role:
        seen = {results[(m, f"{role} key")] for m in ACCESS}
        assert LET_THROUGH in seen, role
        if role is not Role.ADMIN:
            assert "PERMISSION_DENIED" in seen, role


async def _lets_through(channel: grpc.aio.Channel, method: str) -> bool:
    return await call(channel, method, "") == LET_THROUGH


# The key directory is read again every 3 s; the bound leaves room for a busy machine.
PROPAGATION_WITHIN = 30.0


async def test_a_key_made_or_revoked_on_one_service_counts_on_the_others_within_seconds(
    tmp_path, nats_server
):
    async with (
        running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url) as ingest,
        running_boleto(f"sqlite:///{tmp_path / 'boleto.db'}", nats_server.url) as boleto,
    ):
        keys = keys_pb2_grpc.KeyServiceStub(ingest.channel)
        made = await keys.CreateKey(
            keys_pb2.CreateKeyRequest(name="late viewer", role=keys_pb2.KEY_ROLE_VIEWER)
        )
        method = "/boletos.v1.BoletoService/ListBoletos"
        async with access.channel(boleto.address, key=made.secret_key) as channel:
            await wait_until(lambda: _lets_through(channel, method), PROPAGATION_WITHIN)
            await keys.RevokeKey(keys_pb2.RevokeKeyRequest(key_id=made.key.key_id))

            async def refused() -> bool:
                return await call(channel, method, "") == "UNAUTHENTICATED"

            await wait_until(refused, PROPAGATION_WITHIN)


async def test_an_uploader_sees_only_the_uploads_its_own_credential_made(tmp_path, nats_server):
    idp = IdentityProvider.create(tmp_path)
    data = b"name,governmentId,email,debtAmount,debtDueDate,debtId\n"
    async with running_ingest(
        f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url, **idp.service_env()
    ) as svc:
        keys = keys_pb2_grpc.KeyServiceStub(svc.channel)
        uploaders = {"carol (token)": idp.token("carol", ["uploader"])}
        for name in ("alice", "bob"):
            created = await keys.CreateKey(
                keys_pb2.CreateKeyRequest(name=name, role=keys_pb2.KEY_ROLE_UPLOADER)
            )
            uploaders[name] = created.secret_key
        uploads = {}
        for name, credential in uploaders.items():
            async with access.channel(svc.address, key=credential) as channel:
                stub = ingest_pb2_grpc.IngestServiceStub(channel)
                uploads[name] = (await stub.Upload(iter_of(requests(data)))).summary.upload_id
        for name, credential in uploaders.items():
            mine = uploads[name]
            async with access.channel(svc.address, key=credential) as channel:
                stub = ingest_pb2_grpc.IngestServiceStub(channel)
                listed = await stub.ListUploads(ingest_pb2.ListUploadsRequest(page_size=50))
                assert [u.upload_id for u in listed.uploads] == [mine], name
                await stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=mine))
                await stub.GetUploadReport(ingest_pb2.GetUploadReportRequest(upload_id=mine)).read()
                for other in set(uploads.values()) - {mine}:
                    attempts = {
                        "GetUpload": stub.GetUpload(ingest_pb2.GetUploadRequest(upload_id=other)),
                        "ListRowErrors": stub.ListRowErrors(
                            ingest_pb2.ListRowErrorsRequest(upload_id=other)
                        ).read(),
                        "WatchUpload": stub.WatchUpload(
                            ingest_pb2.WatchUploadRequest(upload_id=other)
                        ).read(),
                        "GetUploadReport": stub.GetUploadReport(
                            ingest_pb2.GetUploadReportRequest(upload_id=other)
                        ).read(),
                    }
                    for rpc, attempt in attempts.items():
                        with pytest.raises(grpc.aio.AioRpcError) as refused:
                            await attempt
                        # The same answer as for an upload that does not exist.
                        assert refused.value.code() == grpc.StatusCode.NOT_FOUND, (name, rpc)
        # A caller who may read everything sees all three.
        listed = await svc.stub.ListUploads(ingest_pb2.ListUploadsRequest(page_size=50))
        assert {u.upload_id for u in listed.uploads} == set(uploads.values())


async def iter_of(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def test_each_audited_call_leaves_one_line_naming_who_what_and_the_outcome(
    tmp_path, nats_server, caplog
):
    caplog.set_level(logging.INFO, logger="audit")
    idp = IdentityProvider.create(tmp_path)
    rows = csv_bytes(valid_rows(3, seed=5))
    async with running_ingest(
        f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url, **idp.service_env()
    ) as svc:
        created = await keys_pb2_grpc.KeyServiceStub(svc.channel).CreateKey(
            keys_pb2.CreateKeyRequest(name="nightly job", role=keys_pb2.KEY_ROLE_UPLOADER)
        )
        uploader = f"key:{created.key.key_id}"
        async with access.channel(svc.address, key=created.secret_key) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            upload_id = (await stub.Upload(iter_of(requests(rows)))).summary.upload_id
            await stub.ListUploads(ingest_pb2.ListUploadsRequest())  # not audited
            report = ingest_pb2.GetUploadReportRequest(upload_id=upload_id)
            async for _ in stub.GetUploadReport(report):
                pass
        async with access.channel(svc.address, key=idp.token("vera", ["viewer"])) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.GetUploadReport(report).read()
    lines = [
        (r.principal, r.rpc, r.outcome, getattr(r, "upload_id", ""))
        for r in caplog.records
        if r.name == "audit"
    ]
    admin = lines[0][0]
    assert admin.startswith("key:") and admin != uploader
    assert lines == [
        (admin, "KeyService/CreateKey", "OK", ""),
        (uploader, "IngestService/Upload", "OK", upload_id),
        (uploader, "IngestService/GetUploadReport", "OK", upload_id),
        ("jwt:vera", "IngestService/GetUploadReport", "PERMISSION_DENIED", ""),
    ]
