"""Runs a service's real composition root in-process on a free port, for as long as a test
needs it, and stops it the way SIGTERM would."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

import grpc

from tests.support import access
from tests.support.processes import free_port

S = TypeVar("S")
START_SECONDS = 30.0


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
        {
            "GRPC_LISTEN_ADDR": address,
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            **access.service_env(),
            **env,
        }
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop))
    channel = access.channel(address)
    journal = _Journal()
    root = logging.getLogger()
    level = root.level
    root.addHandler(journal)
    root.setLevel(min(level or logging.WARNING, logging.INFO))
    try:
        await _started(task, channel, journal)
        yield address, channel, settings
    finally:
        await channel.close()
        stop.set()
        stopping = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(task), 60)
        except TimeoutError:
            # Say what is still running: a stop that hangs must be fixed, not waited out.
            task.cancel()
            raise AssertionError(
                "the service did not stop within 60 s.\n"
                f"Its last log lines, seconds from the stop:\n{journal.since(stopping)}\n"
                f"Still running:\n{pending_tasks()}"
            ) from None
        finally:
            root.removeHandler(journal)
            root.setLevel(level)


async def _started(task: asyncio.Task[None], channel: grpc.aio.Channel, journal: _Journal) -> None:
    """Returns once the service answers; a service that ended while starting raises what
    ended it, and one still starting after the wait says where it is parked."""
    starting = time.monotonic()
    ready = asyncio.ensure_future(channel.channel_ready())
    try:
        await asyncio.wait(
            {ready, task}, timeout=START_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ready.cancel()
    if task.done():
        task.result()
        raise AssertionError("the service stopped before it served")
    if not ready.done() or ready.cancelled():
        raise AssertionError(
            f"the service did not answer within {START_SECONDS:.0f} s.\n"
            f"Its log lines, seconds from the start:\n{journal.since(starting)}\n"
            f"Still running:\n{pending_tasks()}"
        )


def pending_tasks() -> str:
    """Each unfinished task with the chain of awaits it is parked in, innermost last."""
    lines = []
    for task in asyncio.all_tasks():
        if task.done():
            continue
        chain: list[str] = []
        awaited: Any = task.get_coro()
        while awaited is not None and len(chain) < 20:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
            frame = frame or getattr(awaited, "gi_frame", None)
            if frame is None:
                chain.append(repr(awaited)[:120])
                break
            chain.append(
                f"{frame.f_code.co_qualname} ({frame.f_code.co_filename}:{frame.f_lineno})"
            )
            awaited = (
                getattr(awaited, "cr_await", None)
                or getattr(awaited, "ag_await", None)
                or getattr(awaited, "gi_yieldfrom", None)
            )
        lines.append(f"- {task.get_name()}: " + " -> ".join(chain))
    return "\n".join(lines)


class _Journal(logging.Handler):
    """Every log record while a service runs, with its fields, to tell a stop's timeline."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def since(self, start: float, last: int = 60) -> str:
        wall_start = time.time() - (time.monotonic() - start)
        shown = []
        for record in self.records[-last:]:
            fields = {
                k: v
                for k, v in record.__dict__.items()
                if k not in _PLAIN_RECORD and not k.startswith("_")
            }
            shown.append(
                f"{record.created - wall_start:+8.2f} {record.name} {record.getMessage()} {fields}"
            )
        return "\n".join(shown)


_PLAIN_RECORD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}
