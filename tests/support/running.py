"""Runs a service's real composition root in-process on a free port, for as long as a test
needs it, and stops it the way SIGTERM would."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import grpc

from tests.support.processes import free_port

S = TypeVar("S")


@contextlib.asynccontextmanager
async def running_service(
    run: Callable[[S, asyncio.Event], Coroutine[Any, Any, None]],
    settings_from_env: Callable[[dict[str, str]], S],
    database_url: str,
    nats_url: str,
    env: dict[str, str],
) -> AsyncIterator[tuple[str, grpc.aio.Channel, S]]:
    address = f"127.0.0.1:{free_port()}"
    settings = settings_from_env(
        {"GRPC_LISTEN_ADDR": address, "DATABASE_URL": database_url, "NATS_URL": nats_url, **env}
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    channel = grpc.aio.insecure_channel(address)
    try:
        await asyncio.wait_for(channel.channel_ready(), 30)
        yield address, channel, settings
    finally:
        await channel.close()
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 60)
        except TimeoutError:
            # Say what is still running: a stop that hangs must be fixed, not waited out.
            stuck = [t for t in asyncio.all_tasks() if not t.done()]
            report = io.StringIO()
            for t in stuck:
                t.print_stack(limit=8, file=report)
            task.cancel()
            raise AssertionError(
                f"the service did not stop within 60 s:\n{report.getvalue()}"
            ) from None
