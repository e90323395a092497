"""The service runtime's end: tasks that resist stopping do not keep a service alive."""

from __future__ import annotations

import asyncio
import logging

import pytest

from boletos.platform import logs, runtime


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "STOPPED_TASK_SECONDS", 0.05)
    swallowed = 0

    async def stubborn() -> None:
        # What nats-py does when cancelled while it flushes: the cancellation is lost.
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed >= 2:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await runtime._end([task], logs.get_logger("test"))
    assert task.cancelled() and swallowed == 2


async def test_a_task_that_never_ends_is_reported_and_left_behind(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime, "STOPPED_TASK_SECONDS", 0.05)
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(deaf(), name="deaf")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(runtime._end([task], logs.get_logger("test")), 5)
    assert [r.getMessage() for r in caplog.records] == ["service.task_stuck"]
    assert caplog.records[0].task == "deaf"  # type: ignore[attr-defined]
    release.set()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
