"""What an attacker's probe of the credential checks found, through the real services: a key
bucket poisoned with bad records, guessing secrets, two authorization headers, and streams
that outlived their key's revocation or their token, and more of them than anyone needs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import AsyncIterator

import grpc
import nats
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from boletos.platform.access.directory import BUCKET
from boletos.platform.access.interceptor import SEVERAL_CREDENTIALS_MESSAGE
from boletos.platform.access.limits import (
    KEY_BURST,
    KEY_PER_SECOND,
    PEER_BURST,
    PEER_PER_SECOND,
)
from boletos.platform.access.open_streams import EXPIRED_MESSAGE, REVOKED_MESSAGE
from boletos.v1 import ingest_pb2, ingest_pb2_grpc, keys_pb2, keys_pb2_grpc
from tests.support import access
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import requests, running_ingest, upload
from tests.support.tokens import IdentityProvider
from tests.support.waiting import wait_until

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED

# The key directory is read again every 3 s; the bound leaves room for a busy machine.
PROPAGATION_WITHIN = 30.0
GOOD_SALT, GOOD_DIGEST = "00" * 16, "11" * 32
POISON = {
    "zzpoison": b'{"key_id":"zzpoison","role":"superuser"}',
    "aaaaaaaaaaa1": b"{not json",
    "aaaaaaaaaaa2": b'{"key_id":"aaaaaaaaaaa2","role":"admin"}',
    "aaaaaaaaaaa3": (
        b'{"key_id":"aaaaaaaaaaa3","name":"x","role":"admin","salt":"%s","digest":"%s",'
        b'"created_at":"2024-01-01T00:00:00+00:00","superpowers":true}'
        % (GOOD_SALT.encode(), GOOD_DIGEST.encode())
    ),
    "aaaaaaaaaaa4": (
        b'{"key_id":"aaaaaaaaaaa4","name":"x","role":"admin","salt":"not hex!","digest":"%s",'
        b'"created_at":"2024-01-01T00:00:00+00:00"}' % GOOD_DIGEST.encode()
    ),
    "aaaaaaaaaaa5": b'["a", "list"]',
    "aaaaaaaaaaa6": (
        b'{"key_id":"bbbbbbbbbbbb","name":"x","role":"admin","salt":"%s","digest":"%s",'
        b'"created_at":"2024-01-01T00:00:00+00:00"}' % (GOOD_SALT.encode(), GOOD_DIGEST.encode())
    ),
}


async def _poison(nats_url: str, records: dict[str, bytes]) -> None:
    nc = await nats.connect(nats_url)
    try:
        kv = await nc.jetstream().key_value(BUCKET)
        for name, value in records.items():
            await kv.put(name, value)
    finally:
        await nc.close()


def _invalid_now() -> float:
    return REGISTRY.get_sample_value("boletos_access_key_records_invalid_current") or 0.0


async def _works(address: str, key: str) -> bool:
    """Whether `key` gets in: a viewer's listing, on whichever service `address` is."""
    async with access.channel(address, key=key) as channel:
        try:
            await channel.unary_unary(
                _LISTING[address],
                request_serializer=bytes,
                response_deserializer=bytes,
            )(b"")
        except grpc.aio.AioRpcError as exc:
            return exc.code() not in (
                grpc.StatusCode.UNAUTHENTICATED,
                grpc.StatusCode.PERMISSION_DENIED,
            )
    return True


async def _refused(address: str, key: str) -> bool:
    return not await _works(address, key)


# The listing a viewer may call on each running service, by address.
_LISTING: dict[str, str] = {}


async def _viewer(keys: keys_pb2_grpc.KeyServiceStub, name: str) -> keys_pb2.CreateKeyResponse:
    made: keys_pb2.CreateKeyResponse = await keys.CreateKey(
        keys_pb2.CreateKeyRequest(name=name, role=keys_pb2.KEY_ROLE_VIEWER)
    )
    return made


async def test_bad_records_in_the_key_bucket_are_skipped_and_the_good_keys_keep_working(
    tmp_path, nats_server, caplog
):
    caplog.set_level(logging.INFO)
    async with running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url) as ingest:
        _LISTING[ingest.address] = "/boletos.v1.IngestService/ListUploads"
        keys = keys_pb2_grpc.KeyServiceStub(ingest.channel)
        before = await _viewer(keys, "made before the poison")
        # A good key whose record is later overwritten with garbage: it fails closed.
        spoiled = await _viewer(keys, "spoiled later")
        await _poison(nats_server.url, {**POISON, spoiled.key.key_id: b'{"role":"superuser"}'})
        after = await _viewer(keys, "made after the poison")

        # A service started on the poisoned bucket starts, and reads the good keys.
        async with running_boleto(f"sqlite:///{tmp_path / 'boleto.db'}", nats_server.url) as boleto:
            _LISTING[boleto.address] = "/boletos.v1.BoletoService/ListBoletos"
            latest = await _viewer(keys, "made while both run")
            for address in (ingest.address, boleto.address):
                for made in (before, after, latest):
                    await wait_until(
                        functools.partial(_works, address, made.secret_key), PROPAGATION_WITHIN
                    )
                await wait_until(
                    functools.partial(_refused, address, spoiled.secret_key), PROPAGATION_WITHIN
                )

            listed = await keys.ListKeys(keys_pb2.ListKeysRequest())
            ids = {k.key_id for k in listed.keys}
            assert {before.key.key_id, after.key.key_id, latest.key.key_id} <= ids
            assert not ids & {*POISON, spoiled.key.key_id}

            await keys.RevokeKey(keys_pb2.RevokeKeyRequest(key_id=after.key.key_id))

            async def refused_on_boleto() -> bool:
                return not await _works(boleto.address, after.secret_key)

            await wait_until(refused_on_boleto, PROPAGATION_WITHIN)
            assert await _works(boleto.address, latest.secret_key)
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await keys.RevokeKey(keys_pb2.RevokeKeyRequest(key_id="aaaaaaaaaaa2"))
            assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
            # Every bad record is still there, and seen as such by the last read.
            assert _invalid_now() == len(POISON) + 1

    lines = [r for r in caplog.records if getattr(r, "event", r.msg) == "access.key_record_invalid"]
    assert lines, "bad records are logged"
    logged_ids = {getattr(r, "key_id", "") for r in lines}
    assert "zzpoison" not in logged_ids and "(not an id)" in logged_ids
    assert spoiled.key.key_id in logged_ids
    reasons = {getattr(r, "reason", "") for r in lines}
    assert {"not_json", "missing_field", "unknown_field", "bad_salt", "not_an_object"} <= reasons
    assert "key_id_not_its_name" in reasons
    assert not [r for r in caplog.records if "superuser" in r.getMessage() + str(r.__dict__)]
    assert not [r for r in caplog.records if r.getMessage() == "access.keys_reload_failed"]


async def test_two_authorization_headers_are_refused(tmp_path, nats_server):
    async with running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url) as ingest:
        admin = access.admin_key()
        async with access.channel(ingest.address, key="") as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ListUploads(
                    ingest_pb2.ListUploadsRequest(),
                    metadata=(
                        ("authorization", f"Bearer {admin}"),
                        ("authorization", "Bearer hunter2"),
                    ),
                )
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert refused.value.details() == SEVERAL_CREDENTIALS_MESSAGE
            # One of them alone is fine.
            await stub.ListUploads(
                ingest_pb2.ListUploadsRequest(), metadata=(("authorization", f"Bearer {admin}"),)
            )


async def _guess(channel: grpc.aio.Channel, bearer: str) -> grpc.aio.AioRpcError | None:
    stub = ingest_pb2_grpc.IngestServiceStub(channel)
    try:
        await stub.ListUploads(
            ingest_pb2.ListUploadsRequest(), metadata=(("authorization", f"Bearer {bearer}"),)
        )
    except grpc.aio.AioRpcError as exc:
        return exc
    return None


async def _guess_until_refused(
    channel: grpc.aio.Channel, bearer: str, burst: int, per_second: float
) -> grpc.aio.AioRpcError:
    """Guesses until refused, and checks that the refusal came after the burst plus the
    tokens that flowed back while the guesses were answered (on a slow machine, some)."""
    started = time.monotonic()
    codes = []
    while True:
        answer = await _guess(channel, bearer)
        assert answer is not None, "a guess was taken"
        if answer.code() != UNAUTHENTICATED:
            break
        codes.append(answer.code())
        assert len(codes) <= 2 * burst, "the guesses were never refused"
    refilled = math.ceil((time.monotonic() - started) * per_second)
    assert burst <= len(codes) <= burst + refilled
    assert answer.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    return answer


async def test_guessing_a_secret_is_throttled_and_the_honest_client_goes_on(tmp_path, nats_server):
    async with running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url) as ingest:
        keys = keys_pb2_grpc.KeyServiceStub(ingest.channel)
        made = await _viewer(keys, "busy job")
        key_id = made.key.key_id
        async with access.channel(ingest.address, key="") as channel:
            assert await _guess(channel, made.secret_key) is None  # checked once, remembered
            for target in (key_id, "0" * 12):  # a real id, and one that does not exist
                last = await _guess_until_refused(
                    channel, f"bk_{target}_{'G' * 43}", KEY_BURST, KEY_PER_SECOND
                )
                status = rpc_status.from_call(last)
                assert status is not None
                infos = {d.type_url.rsplit(".", 1)[-1]: d for d in status.details}
                retry = error_details_pb2.RetryInfo()
                infos["RetryInfo"].Unpack(retry)
                assert retry.retry_delay.seconds >= 1
                # The honest client is not held up by the guesses at its id.
                assert await _guess(channel, made.secret_key) is None


async def test_revoking_a_key_ends_its_open_streams(tmp_path, nats_server):
    rows = csv_bytes(valid_rows(3, seed=11))
    async with running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url) as ingest:
        keys = keys_pb2_grpc.KeyServiceStub(ingest.channel)
        made = await keys.CreateKey(
            keys_pb2.CreateKeyRequest(name="uploader", role=keys_pb2.KEY_ROLE_UPLOADER)
        )
        hold = asyncio.Event()

        async def never_ending() -> AsyncIterator[ingest_pb2.UploadRequest]:
            for request in requests(rows, end=False):
                yield request
            await hold.wait()

        async with access.channel(ingest.address, key=made.secret_key) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            upload = stub.Upload(never_ending(), timeout=120)

            async def started() -> bool:
                listed = await ingest.stub.ListUploads(ingest_pb2.ListUploadsRequest())
                return len(listed.uploads) == 1

            await wait_until(started, PROPAGATION_WITHIN)
            listed = await ingest.stub.ListUploads(ingest_pb2.ListUploadsRequest())
            watch = stub.WatchUpload(
                ingest_pb2.WatchUploadRequest(upload_id=listed.uploads[0].upload_id), timeout=120
            )
            await watch.read()  # admitted, and streaming

            await keys.RevokeKey(keys_pb2.RevokeKeyRequest(key_id=made.key.key_id))
            for call in (upload, watch):
                with pytest.raises(grpc.aio.AioRpcError) as ended:
                    async with asyncio.timeout(PROPAGATION_WITHIN):
                        if call is watch:
                            while await watch.read() != grpc.aio.EOF:
                                pass
                        else:
                            await upload
                assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
                assert ended.value.details() == REVOKED_MESSAGE
            hold.set()
            with contextlib.suppress(Exception):
                upload.cancel()


def _reason(exc: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    status = rpc_status.from_call(exc)
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason, dict(info.metadata)
    raise AssertionError(f"no ErrorInfo in {exc.details()}")


async def _unsettled_upload(ingest) -> str:
    """An upload that stays unsettled (no boleto service runs), so a watch of it stays open."""
    summary = await upload(ingest.stub, csv_bytes(valid_rows(2, seed=3)))
    return str(summary.upload_id)


async def _watching(channel: grpc.aio.Channel, upload_id: str):
    """A WatchUpload stream, admitted and streaming (its first answer read)."""
    call = ingest_pb2_grpc.IngestServiceStub(channel).WatchUpload(
        ingest_pb2.WatchUploadRequest(upload_id=upload_id), timeout=120
    )
    await call.read()
    return call


async def _refused_watch(channel: grpc.aio.Channel, upload_id: str) -> grpc.aio.AioRpcError:
    call = ingest_pb2_grpc.IngestServiceStub(channel).WatchUpload(
        ingest_pb2.WatchUploadRequest(upload_id=upload_id), timeout=30
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call.read()
    return refused.value


async def test_open_streams_are_bounded_per_credential_and_in_total(tmp_path, nats_server):
    limits = {"GRPC_MAX_STREAMS_PER_CALLER": "2", "GRPC_MAX_STREAMS": "3"}
    async with running_ingest(
        f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url, **limits
    ) as ingest:
        keys = keys_pb2_grpc.KeyServiceStub(ingest.channel)
        first, second = await _viewer(keys, "dashboard"), await _viewer(keys, "console")
        upload_id = await _unsettled_upload(ingest)
        async with (
            access.channel(ingest.address, key=first.secret_key) as a,
            access.channel(ingest.address, key=second.secret_key) as b,
        ):
            mine = [await _watching(a, upload_id), await _watching(a, upload_id)]
            refused = await _refused_watch(a, upload_id)
            assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert _reason(refused) == ("TOO_MANY_STREAMS", {"limit": "caller", "allowed": "2"})
            # Another credential still gets a stream, up to the server's total.
            other = await _watching(b, upload_id)
            refused = await _refused_watch(b, upload_id)
            assert _reason(refused) == ("TOO_MANY_STREAMS", {"limit": "total", "allowed": "3"})
            # Unary calls are not streams: the credential at its limit still lists.
            await ingest_pb2_grpc.IngestServiceStub(a).ListUploads(ingest_pb2.ListUploadsRequest())
            mine[0].cancel()

            async def room() -> bool:
                try:
                    (await _watching(b, upload_id)).cancel()
                except grpc.aio.AioRpcError:
                    return False
                return True

            # A closed stream makes room again.
            await wait_until(room, PROPAGATION_WITHIN)
            for call in (mine[1], other):
                call.cancel()


async def test_a_stream_ends_when_its_token_expires(tmp_path, nats_server):
    idp = IdentityProvider.create(tmp_path)
    async with running_ingest(
        f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url, **idp.service_env()
    ) as ingest:
        upload_id = await _unsettled_upload(ingest)
        token = idp.token("ana@cobrancas", ["viewer"], expires_in=1)
        async with access.channel(ingest.address, key=token) as channel:
            watch = await _watching(channel, upload_id)
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                async with asyncio.timeout(PROPAGATION_WITHIN):
                    while await watch.read() != grpc.aio.EOF:
                        pass
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert ended.value.details() == EXPIRED_MESSAGE


async def test_failed_tokens_count_against_their_peer(tmp_path, nats_server):
    idp = IdentityProvider.create(tmp_path)
    async with running_ingest(
        f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url, **idp.service_env()
    ) as ingest:
        forged = idp.forged_token("mallory", ["admin"])
        async with access.channel(ingest.address, key="") as channel:
            last = await _guess_until_refused(channel, forged, PEER_BURST, PEER_PER_SECOND)
            assert _reason(last) == (
                "TOO_MANY_FAILED_ATTEMPTS",
                {"limit": "peer", "retry_after_seconds": _reason(last)[1]["retry_after_seconds"]},
            )
