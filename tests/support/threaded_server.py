"""A TLS grpc.aio server on a thread and event loop of its own, for tests that run the CLI,
which runs its own loop in the test's thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator

import grpc

from tests.support import access


@contextlib.contextmanager
def serving_on_a_thread(register: Callable[[grpc.aio.Server], None]) -> Iterator[str]:
    """Serves what `register` adds to the server; yields the server's address."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server: grpc.aio.Server | None = None

    async def start() -> str:
        nonlocal server
        server = grpc.aio.server()
        register(server)
        port = server.add_secure_port("127.0.0.1:0", access.server_credentials())
        await server.start()
        return f"127.0.0.1:{port}"

    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    finally:
        if server is not None:
            asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
