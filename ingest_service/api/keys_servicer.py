"""boletos.v1.KeyService: API keys, kept in the key directory every service reads."""

from __future__ import annotations

import datetime as dt

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from boletos.platform import errors
from boletos.platform.access import interceptor as audit
from boletos.platform.access.directory import KeyDirectory
from boletos.platform.access.key_roles import PROTO_ROLE, ROLE_OF
from boletos.platform.access.keys import ID_BYTES, KeyRecord, new_key, well_formed_id
from boletos.platform.access.principal import caller_id, current
from boletos.platform.beneficiaries_file import KEY_PATTERN
from boletos.platform.logs import get_logger
from boletos.v1 import keys_pb2, keys_pb2_grpc

log = get_logger("access")

MAX_NAME = 100


class KeyServicer(keys_pb2_grpc.KeyServiceServicer):
    def __init__(self, directory: KeyDirectory) -> None:
        self._directory = directory

    async def CreateKey(
        self, request: keys_pb2.CreateKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.CreateKeyResponse:
        name = request.name.strip()
        if not 1 <= len(name) <= MAX_NAME or not name.isprintable():
            await errors.invalid_argument(context, "name", f"1 to {MAX_NAME} printable characters")
        role = ROLE_OF.get(request.role)
        if role is None:
            await errors.invalid_argument(context, "role", "one of the KeyRole values")
        limited = tuple(dict.fromkeys(b.strip() for b in request.beneficiaries))
        if any(not KEY_PATTERN.fullmatch(b) for b in limited):
            await errors.invalid_argument(
                context, "beneficiaries", "beneficiary keys: lower-case letters, digits, - and _"
            )
        key, record = new_key(name, role, dt.datetime.now(dt.UTC), limited)
        await self._directory.put(record)
        audit.note(key_id=record.key_id)
        log.info("access.key_created", key_id=record.key_id, role=role, by=caller_id())
        return keys_pb2.CreateKeyResponse(key=describe(record), secret_key=key)

    async def ListKeys(
        self, request: keys_pb2.ListKeysRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.ListKeysResponse:
        await self._directory.reload()
        return keys_pb2.ListKeysResponse(keys=[describe(r) for r in self._directory.records()])

    async def RevokeKey(
        self, request: keys_pb2.RevokeKeyRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.RevokeKeyResponse:
        # Refused before it is echoed back: kilobytes of id in the not-found answer overflowed
        # the trailers and reached the client as a bare RESOURCE_EXHAUSTED.
        if not well_formed_id(request.key_id):
            await errors.invalid_argument(
                context, "key_id", f"{2 * ID_BYTES} hex digits, as ListKeys shows", "INVALID_ID"
            )
        await self._directory.reload()
        record = self._directory.get(request.key_id)
        if record is None:
            await errors.not_found(context, "key", request.key_id, "no such key", "KEY_NOT_FOUND")
        if not record.revoked:
            record = record.revoke(dt.datetime.now(dt.UTC))
            await self._directory.put(record)
            log.warning("access.key_revoked", key_id=record.key_id, by=caller_id())
        return keys_pb2.RevokeKeyResponse(key=describe(record))

    async def GetCaller(
        self, request: keys_pb2.GetCallerRequest, context: grpc.aio.ServicerContext
    ) -> keys_pb2.GetCallerResponse:
        who = current()
        assert who is not None  # the access interceptor let the call in
        roles = sorted(PROTO_ROLE[role] for role in who.roles)
        return keys_pb2.GetCallerResponse(
            caller=keys_pb2.Caller(id=who.id, name=who.name, roles=roles)
        )


def describe(record: KeyRecord) -> keys_pb2.ApiKey:
    key = keys_pb2.ApiKey(
        key_id=record.key_id,
        name=record.name,
        role=PROTO_ROLE[record.role],
        beneficiaries=list(record.beneficiaries),
    )
    key.created_at.CopyFrom(_timestamp(record.created_at))
    if record.revoked_at:
        key.revoked_at.CopyFrom(_timestamp(record.revoked_at))
    return key


def _timestamp(iso: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(dt.datetime.fromisoformat(iso))
    return stamp
