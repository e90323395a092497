"""The API keys every service accepts, kept in a JetStream key-value bucket.

The ingest service writes the bucket (KeyService, and the key files it imports at start);
every service reads it and keeps the records in memory, checking every few seconds whether
anything changed, so a key made or revoked anywhere is honoured everywhere within
RELOAD_SECONDS. The bucket holds ids, roles and scrypt hashes only (see keys.py).

Where NATS has a user per service (nats_permissions), only the key writer's may write the
bucket; without users, anyone who can reach NATS can add a key here, as they could publish
events (SECURITY.md). A record that is not one this
code would write (bad JSON, a missing or unknown field, an unknown role) is skipped, logged
(`access.key_record_invalid`, its id only when id-shaped) and counted, and the key it stands
for works nowhere until it is written again; the other keys are not held up by it.

A key that checked out is remembered by a hash of the key (never the key itself) until
VERIFIED_SECONDS pass without it, so a busy client pays scrypt once; revoking it, or its
record going bad, ends that at the next reload, and `on_withdrawn` listeners hear of it (open
streams are ended).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, NoKeysError, NotFoundError
from nats.js.kv import KeyValue
from prometheus_client import Counter, Gauge

from boletos.platform.access.keys import (
    InvalidRecord,
    KeyRecord,
    MalformedKey,
    burn,
    matches,
    parse,
    record_for,
    well_formed_id,
)
from boletos.platform.access.principal import Principal
from boletos.platform.access.roles import Role
from boletos.platform.logs import get_logger
from boletos.platform.stopping import Stopping

BUCKET = "BOLETOS_KEYS"
KEY_SUBJECT = f"$KV.{BUCKET}."
RELOAD_SECONDS = 3.0
# Forgotten this long after its last use; a revocation ends it sooner, at the next reload.
VERIFIED_SECONDS = 60.0
# Keys remembered at once; only keys that checked out get in, so this bounds honest clients.
VERIFIED_MAX = 10_000
# scrypt runs in threads of its own: guesses queue there, never in the pool the stores use,
# and never on the event loop.
SCRYPT_THREADS = 2
log = get_logger("access")

INVALID_RECORDS = Counter(
    "boletos_access_key_records_invalid",
    "Records of the key bucket skipped as unreadable or invalid (each version counted once).",
    ["reason"],
)
INVALID_NOW = Gauge(
    "boletos_access_key_records_invalid_current",
    "Records of the key bucket that are unreadable or invalid at the last read; "
    "each stands for a key that works nowhere.",
)

Withdrawn = Callable[[str], None]


class KeyDirectory:
    def __init__(self, kv: KeyValue, js: JetStreamContext) -> None:
        self._kv = kv
        self._js = js
        self._records: dict[str, KeyRecord] = {}
        # sha256 of a key that checked out -> (its record as it was then, when that expires).
        self._verified: OrderedDict[bytes, tuple[KeyRecord, float]] = OrderedDict()
        # Bucket entries found invalid, by name and revision, so each is reported once.
        self._reported: set[tuple[str, int]] = set()
        self._withdrawn: list[Withdrawn] = []
        self._scrypt = ThreadPoolExecutor(SCRYPT_THREADS, thread_name_prefix="scrypt")
        self._seen_seq = -1
        self._stopping = Stopping()

    @classmethod
    async def open(
        cls, js: JetStreamContext, replicas: int = 1, *, declare: bool = True
    ) -> KeyDirectory:
        """`replicas`: the nodes of a cluster the bucket is kept on, as for the streams.
        `declare`: make the bucket, or spread it over a grown cluster; a service whose NATS
        user may not (only the key writer may) waits for it instead."""
        while True:
            try:
                kv = await js.key_value(BUCKET)
                break
            except (BucketNotFoundError, NotFoundError):
                if declare:
                    kv = await js.create_key_value(
                        KeyValueConfig(
                            bucket=BUCKET, history=5, storage=StorageType.FILE, replicas=replicas
                        )
                    )
                    return await cls._opened(kv, js)
                log.info("access.key_bucket_awaited", bucket=BUCKET)
                await asyncio.sleep(RELOAD_SECONDS)
        if declare:
            # A bucket made before the deployment grew into a cluster is spread over it.
            stream = await js.stream_info(f"KV_{BUCKET}")
            if stream.config.num_replicas != replicas:
                await js.update_stream(dataclasses.replace(stream.config, num_replicas=replicas))
        return await cls._opened(kv, js)

    @classmethod
    async def _opened(cls, kv: KeyValue, js: JetStreamContext) -> KeyDirectory:
        directory = cls(kv, js)
        await directory.reload()
        return directory

    async def reload(self) -> None:
        """Reads the bucket again if anything was written to it since the last read."""
        stream = f"KV_{BUCKET}"
        if (await self._js.stream_info(stream)).state.last_seq == self._seen_seq:
            return
        # Changed: now with every key's subject, which a whole read must find (asked only
        # now, since the list grows with the keys and the check above runs every few seconds).
        info = await self._js.stream_info(stream, subjects_filter=">")
        in_bucket = {subject.removeprefix(KEY_SUBJECT) for subject in info.state.subjects or {}}
        listed: set[str] = set()
        read: dict[str, KeyRecord] = {}
        invalid: set[str] = set()
        with contextlib.suppress(NotFoundError, NoKeysError):
            for name in await self._kv.keys():
                listed.add(name)
                with contextlib.suppress(NotFoundError):
                    entry = await self._kv.get(name)
                    if not entry.value:
                        continue
                    record = self._record_of(name, entry.revision or 0, entry.value)
                    if record is None:
                        invalid.add(name)
                    else:
                        read[name] = record
        INVALID_NOW.set(len(invalid))
        # Keys are never deleted (a revocation is a newer record), so a read that lacks a key
        # the bucket held before it began, or one this process knows, saw only part of the
        # bucket (a busy server, a watcher that gave up early): what it found is taken,
        # nothing is forgotten, and it is read again. A record gone bad is forgotten: its key
        # fails closed.
        complete = listed >= in_bucket and read.keys() | invalid >= self._records.keys()
        before = self._records
        self._records = {
            key_id: record for key_id, record in {**before, **read}.items() if key_id not in invalid
        }
        self._tell_withdrawn(before)
        if complete:
            self._seen_seq = info.state.last_seq

    def _record_of(self, name: str, revision: int, value: bytes) -> KeyRecord | None:
        try:
            record = KeyRecord.from_json(value)
            if record.key_id != name:
                raise InvalidRecord("key_id_not_its_name")
        except InvalidRecord as bad:
            if (name, revision) not in self._reported:
                self._reported.add((name, revision))
                INVALID_RECORDS.labels(bad.reason).inc()
                log.error(
                    "access.key_record_invalid",
                    key_id=name if well_formed_id(name) else "(not an id)",
                    reason=bad.reason,
                )
            return None
        return record

    def on_withdrawn(self, listener: Withdrawn) -> None:
        """`listener(key_id)` is called when a key that worked stops working here (revoked,
        or its record gone bad)."""
        self._withdrawn.append(listener)

    def _tell_withdrawn(self, before: dict[str, KeyRecord]) -> None:
        for key_id, record in before.items():
            if record.revoked or self._usable(key_id):
                continue
            for listener in self._withdrawn:
                listener(key_id)

    def _usable(self, key_id: str) -> bool:
        record = self._records.get(key_id)
        return record is not None and not record.revoked

    def stop(self) -> None:
        self._stopping.set()
        self._scrypt.shutdown(wait=False, cancel_futures=True)

    async def run(self) -> None:
        """Keeps the records fresh until stopped."""
        while not self._stopping.is_set():
            if await self._stopping.sleep(RELOAD_SECONDS):
                return
            try:
                await self.reload()
            except Exception as exc:  # noqa: BLE001 - keep the last known keys; retry soon
                log.warning("access.keys_reload_failed", error=repr(exc))

    async def put(self, record: KeyRecord) -> None:
        await self._kv.put(record.key_id, record.to_json())
        before = dict(self._records)
        self._records[record.key_id] = record
        self._tell_withdrawn(before)

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

    def remembered(self, key: str) -> Principal | None:
        """The principal of a key that checked out lately and whose record has not changed
        since, without scrypt; None if it has to be checked."""
        fingerprint = _fingerprint(key)
        found = self._verified.get(fingerprint)
        if found is None:
            return None
        record, expires = found
        if time.monotonic() >= expires or self._records.get(record.key_id) != record:
            del self._verified[fingerprint]
            return None
        # Kept while in use: a busy client pays scrypt once, and a throttled id (guessers
        # aiming at it) never reaches it.
        self._remember(key, record)
        return _principal(record)

    async def authenticate(self, key: str) -> Principal | None:
        """The key's principal, or None for a malformed, unknown, revoked or wrong key. Costs
        one scrypt, in a thread of its own, unless the key checked out lately; an unknown or
        revoked id costs the same as a wrong secret."""
        try:
            key_id, secret = parse(key)
        except MalformedKey:
            return None
        remembered = self.remembered(key)
        if remembered is not None:
            return remembered
        record = self._records.get(key_id)
        loop = asyncio.get_running_loop()
        if record is None or record.revoked:
            await loop.run_in_executor(self._scrypt, burn, secret)
            return None
        if not await loop.run_in_executor(self._scrypt, matches, record, secret):
            return None
        self._remember(key, record)
        return _principal(record)

    def _remember(self, key: str, record: KeyRecord) -> None:
        fingerprint = _fingerprint(key)
        self._verified[fingerprint] = (record, time.monotonic() + VERIFIED_SECONDS)
        self._verified.move_to_end(fingerprint)
        while len(self._verified) > VERIFIED_MAX:
            self._verified.popitem(last=False)


def _fingerprint(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _principal(record: KeyRecord) -> Principal:
    return Principal(
        f"key:{record.key_id}",
        frozenset({record.role}),
        record.name,
        frozenset(record.beneficiaries),
    )
