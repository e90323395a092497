"""The API keys every service accepts, kept in a JetStream key-value bucket.

The ingest service writes the bucket (KeyService, and the key files it imports at start);
every service reads it and keeps the records in memory, checking every few seconds whether
anything changed, so a key made or revoked anywhere is honoured everywhere within
RELOAD_SECONDS. The bucket holds ids, roles and scrypt hashes only (see keys.py).

Anyone who can write to NATS can add a key here, as they could publish events: NATS belongs
on a private network, behind its own credentials (SECURITY.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, NoKeysError, NotFoundError
from nats.js.kv import KeyValue

from boletos.platform.access.keys import KeyRecord, MalformedKey, matches, parse, record_for
from boletos.platform.access.principal import Principal
from boletos.platform.access.roles import Role
from boletos.platform.logs import get_logger

BUCKET = "BOLETOS_KEYS"
RELOAD_SECONDS = 3.0
log = get_logger("access")


class KeyDirectory:
    def __init__(self, kv: KeyValue, js: JetStreamContext) -> None:
        self._kv = kv
        self._js = js
        self._records: dict[str, KeyRecord] = {}
        # sha256 of the last key that matched each record, so a key is hashed with scrypt
        # once per process, not once per call.
        self._verified: dict[str, bytes] = {}
        self._seen_seq = -1
        self._stopping = asyncio.Event()

    @classmethod
    async def open(cls, js: JetStreamContext, replicas: int = 1) -> KeyDirectory:
        """`replicas`: the nodes of a cluster the bucket is kept on, as for the streams."""
        try:
            kv = await js.key_value(BUCKET)
        except (BucketNotFoundError, NotFoundError):
            kv = await js.create_key_value(
                KeyValueConfig(
                    bucket=BUCKET, history=5, storage=StorageType.FILE, replicas=replicas
                )
            )
        else:
            # A bucket made before the deployment grew into a cluster is spread over it.
            stream = await js.stream_info(f"KV_{BUCKET}")
            if stream.config.num_replicas != replicas:
                await js.update_stream(dataclasses.replace(stream.config, num_replicas=replicas))
        directory = cls(kv, js)
        await directory.reload()
        return directory

    async def reload(self) -> None:
        """Reads the bucket again if anything was written to it since the last read."""
        info = await self._js.stream_info(f"KV_{BUCKET}")
        if info.state.last_seq == self._seen_seq:
            return
        read: dict[str, KeyRecord] = {}
        with contextlib.suppress(NotFoundError, NoKeysError):
            for name in await self._kv.keys():
                with contextlib.suppress(NotFoundError):
                    entry = await self._kv.get(name)
                    if entry.value:
                        record = KeyRecord.from_json(entry.value)
                        read[record.key_id] = record
        # Keys are never deleted (a revocation is a newer record), so a read that lacks a key
        # this process knows saw only part of the bucket (a busy server, a watcher that gave
        # up early): what it found is taken, nothing is forgotten, and it is read again.
        complete = read.keys() >= self._records.keys()
        self._records = {**self._records, **read}
        if complete:
            self._seen_seq = info.state.last_seq

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Keeps the records fresh until stopped."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RELOAD_SECONDS)
            if self._stopping.is_set():
                return
            try:
                await self.reload()
            except Exception as exc:  # noqa: BLE001 - keep the last known keys; retry soon
                log.warning("access.keys_reload_failed", error=repr(exc))

    async def put(self, record: KeyRecord) -> None:
        await self._kv.put(record.key_id, record.to_json())
        self._records[record.key_id] = record
        self._verified.pop(record.key_id, None)

    async def ensure(self, key: str, name: str, role: Role) -> bool:
        """Adds a key made elsewhere (a deployment's secret file) unless its id is known:
        a revoked key stays revoked, however often its file is imported. True if added."""
        await self.reload()
        key_id, _ = parse(key)
        if key_id in self._records:
            return False
        await self.put(record_for(key, name, role, dt.datetime.now(dt.UTC)))
        return True

    def get(self, key_id: str) -> KeyRecord | None:
        return self._records.get(key_id)

    def records(self) -> list[KeyRecord]:
        return sorted(self._records.values(), key=lambda r: (r.created_at, r.key_id))

    def authenticate(self, key: str) -> Principal | None:
        """The key's principal, or None for a malformed, unknown, revoked or wrong key.
        May take scrypt's ~30 ms the first time: call it off the event loop."""
        try:
            key_id, secret = parse(key)
        except MalformedKey:
            return None
        record = self._records.get(key_id)
        if record is None or record.revoked:
            return None
        fingerprint = hashlib.sha256(key.encode()).digest()
        if self._verified.get(key_id) != fingerprint:
            if not matches(record, secret):
                return None
            self._verified[key_id] = fingerprint
        return Principal(
            f"key:{key_id}",
            frozenset({record.role}),
            record.name,
            frozenset(record.beneficiaries),
        )
