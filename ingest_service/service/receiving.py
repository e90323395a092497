"""Uploads whose receiving process died are interrupted, not left receiving for ever.

Each ingest process says, every few seconds, that it still receives the uploads it started;
any process that finds an upload nobody has vouched for in a while marks it interrupted,
with the rows that were made durable. A client sending the file again completes it, as
after any interrupted stream.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol

from boletos.platform.logs import get_logger
from boletos.platform.stopping import Stopping
from ingest_service.domain.upload import Upload
from ingest_service.service.upload_session import count_finished

log = get_logger("ingest")

KEEP_ALIVE_SECONDS = 5.0
# Six missed turns: a busy process is late now and then, a dead one for good.
STALE_SECONDS = 30.0  # the default of INGEST_RECEIVER_STALE_SECONDS


class ReceivingLedger(Protocol):
    def keep_receiving(self) -> None: ...

    def interrupt_abandoned(self, stale: dt.timedelta) -> list[Upload]: ...


class ReceivingKeeper:
    def __init__(
        self,
        ledger: ReceivingLedger,
        every: float = KEEP_ALIVE_SECONDS,
        stale: float = STALE_SECONDS,
    ) -> None:
        self._ledger = ledger
        self._every = every
        self._stale = dt.timedelta(seconds=stale)
        self._stopping = Stopping()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.to_thread(self._ledger.keep_receiving)
                for upload in await asyncio.to_thread(
                    self._ledger.interrupt_abandoned, self._stale
                ):
                    count_finished(upload)
                    log.warning(
                        "upload.interrupted",
                        upload_id=upload.upload_id,
                        rows=upload.rows,
                        reason="the process receiving it stopped",
                    )
            except Exception as exc:  # noqa: BLE001 - the next turn tries again
                log.warning("upload.keeper_failed", error=repr(exc))
            await self._stopping.sleep(self._every)
