"""Worker processes: work runs in another process, and a worker that dies is replaced without
the service noticing more than one log line and a metric."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator
from concurrent.futures.process import BrokenProcessPool

import pytest
from prometheus_client import REGISTRY

from boletos.platform.worker_processes import WorkerProcesses


def replaced(pool: str) -> float:
    labels = {"pool": pool}
    return REGISTRY.get_sample_value("boletos_worker_pools_replaced_total", labels) or 0.0


@pytest.fixture
async def workers(request: pytest.FixtureRequest) -> AsyncIterator[WorkerProcesses]:
    pool = WorkerProcesses(f"test-{request.node.name}", 1)
    try:
        yield pool
    finally:
        pool.close()


async def test_work_runs_in_another_process(workers: WorkerProcesses) -> None:
    assert await workers.run(os.getpid) != os.getpid()


async def test_a_killed_worker_is_replaced_and_the_work_done(
    workers: WorkerProcesses, caplog: pytest.LogCaptureFixture
) -> None:
    worker = await workers.run(os.getpid)
    before = replaced(workers.name)
    os.kill(worker, signal.SIGKILL)
    with caplog.at_level(logging.ERROR):
        other = await workers.run(os.getpid)
        assert await workers.run(os.getpid) == other

    assert other != worker
    assert replaced(workers.name) == before + 1
    [line] = [r for r in caplog.records if r.getMessage() == "worker_pool.replaced"]
    assert line.pool == workers.name  # type: ignore[attr-defined]


async def test_work_that_kills_its_worker_fails_after_one_retry_and_the_next_work_runs(
    workers: WorkerProcesses,
) -> None:
    before = replaced(workers.name)
    with pytest.raises(BrokenProcessPool):
        await workers.run(os._exit, 1)
    assert replaced(workers.name) == before + 2
    assert await workers.run(sum, [1, 2]) == 3
