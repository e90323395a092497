"""The key directory on a real JetStream bucket: what one process writes, another reads; a
read that sees only part of the bucket forgets nothing."""

from __future__ import annotations

import datetime as dt

import nats
from nats.js.errors import NoKeysError
from nats.js.kv import KeyValue

from boletos.platform.access.directory import KeyDirectory
from boletos.platform.access.keys import new_key
from boletos.platform.access.roles import Role


async def test_a_partial_read_of_the_bucket_forgets_no_key(nats_server, monkeypatch):
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        here = await KeyDirectory.open(js)
        elsewhere = await KeyDirectory.open(js)
        now = dt.datetime.now(dt.UTC)
        first, record = new_key("first", Role.VIEWER, now)
        await here.put(record)
        assert await here.authenticate(first) is not None

        # Another replica adds a key; this one's next read comes back empty, as a watcher
        # that gave up on a busy server does.
        second, record = new_key("second", Role.VIEWER, now)
        await elsewhere.put(record)
        real_keys = here._kv.keys

        async def nothing() -> list[str]:
            raise NoKeysError

        monkeypatch.setattr(here._kv, "keys", nothing)
        await here.reload()
        assert await here.authenticate(first) is not None

        # The next read is whole: the other replica's key arrives.
        monkeypatch.setattr(here._kv, "keys", real_keys)
        await here.reload()
        assert await here.authenticate(first) is not None
        assert await here.authenticate(second) is not None
    finally:
        await nc.close()


async def test_a_partial_read_by_a_process_that_knew_no_key_is_read_again(nats_server, monkeypatch):
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        writer = await KeyDirectory.open(js)
        key, record = new_key("admin", Role.ADMIN, dt.datetime.now(dt.UTC))
        await writer.put(record)

        # A replica starting as the key is written: its first read comes back without it, and
        # nothing it knew is missing to tell it the read was short.
        real_keys = KeyValue.keys

        async def nothing(self: KeyValue, *args: object, **kwargs: object) -> list[str]:
            raise NoKeysError

        monkeypatch.setattr(KeyValue, "keys", nothing)
        reader = await KeyDirectory.open(js)
        assert await reader.authenticate(key) is None

        # Nothing is written meanwhile; the next read must look again all the same.
        monkeypatch.setattr(KeyValue, "keys", real_keys)
        await reader.reload()
        assert await reader.authenticate(key) is not None
    finally:
        await nc.close()
