"""CPU-bound work in worker processes of the service's own, beside its event loop.

A process has its own interpreter lock: work sent here does not take turns with the
service's event loop and threads. A worker that dies (the kernel's OOM killer, a kill -9)
breaks a ProcessPoolExecutor for good; the pool is then replaced and the work tried once
more, so the service goes on without a restart.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from prometheus_client import Counter

from boletos.platform.logs import get_logger

T = TypeVar("T")

REPLACED = Counter(
    "boletos_worker_pools_replaced_total",
    "Worker process pools replaced because one of their workers died.",
    ["pool"],
)
log = get_logger("workers")


class WorkerProcesses:
    def __init__(self, name: str, processes: int) -> None:
        """Workers start on demand, with `spawn`: a fork would copy the locks of the service's
        threads in whatever state they are."""
        self.name = name
        self._processes = processes
        self._pool = self._new_pool()
        REPLACED.labels(name)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) in a worker; fn and its arguments must pickle, and fn must be safe to run
        twice, since it is run again when a worker died under it."""
        try:
            return await self._run_once(fn, args)
        except BrokenProcessPool:
            return await self._run_once(fn, args)

    async def _run_once(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            self._replace(pool)
            raise

    async def start(self, warm_up: Callable[[], object]) -> None:
        """Starts every worker now, each running warm_up, instead of on the first work."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._pool, warm_up) for _ in range(self._processes))
        )

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        # The calls that were in flight all fail at once: one replacement for all of them.
        if self._pool is not broken:
            return
        log.error("worker_pool.replaced", pool=self.name, reason="a worker process died")
        REPLACED.labels(self.name).inc()
        self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _exit_with_parent(parent_pid: int) -> None:
    """A worker whose service was killed outright would otherwise live on, holding the
    service's output pipes open for whoever supervises it."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
