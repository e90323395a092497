"""The boletos' PDFs, through the boleto service's gRPC contract, never its store.

Fetched in batches ahead of sending: one call and one lookup per batch instead of per
message, which is most of the boleto service's cost per e-mail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from mailer_service.domain.errors import PdfUnavailable

BATCH_SIZE = 64
# Two batches in flight: the next one arrives while the current one is being sent.
BATCHES_IN_FLIGHT = 2
CALL_TIMEOUT_SECONDS = 30.0


class BoletoPdfs:
    def __init__(self, channel: grpc.aio.Channel, batch_size: int = BATCH_SIZE) -> None:
        self._stub = boleto_pb2_grpc.BoletoServiceStub(channel)
        self._batch_size = batch_size
        self._fetching: set[asyncio.Task[None]] = set()

    def prefetch(self, debt_ids: Sequence[str]) -> dict[str, asyncio.Future[bytes]]:
        """One future per debt id, resolved as its batch arrives, in the order given; a debt
        without a PDF, or in a batch whose call failed, gets PdfUnavailable."""
        loop = asyncio.get_running_loop()
        futures: dict[str, asyncio.Future[bytes]] = {}
        for debt_id in dict.fromkeys(debt_ids):
            future: asyncio.Future[bytes] = loop.create_future()
            # A stopping sender may never await some of them; their failure is not news.
            future.add_done_callback(_retrieve)
            futures[debt_id] = future
        task = asyncio.create_task(self._fetch_all(futures))
        self._fetching.add(task)
        task.add_done_callback(self._fetching.discard)
        return futures

    async def _fetch_all(self, futures: dict[str, asyncio.Future[bytes]]) -> None:
        ids = list(futures)
        gate = asyncio.Semaphore(BATCHES_IN_FLIGHT)

        async def fetch(batch: list[str]) -> None:
            try:
                async with gate:
                    response = await self._stub.BatchGetBoletoPdfs(
                        boleto_pb2.BatchGetBoletoPdfsRequest(debt_ids=batch),
                        timeout=CALL_TIMEOUT_SECONDS,
                    )
            except grpc.aio.AioRpcError as exc:
                for debt_id in batch:
                    error = PdfUnavailable(f"boleto service: {exc.code().name} {exc.details()}")
                    _settle(futures[debt_id], error=error)
                return
            pdfs = {p.debt_id: p.pdf for p in response.pdfs}
            for debt_id in batch:
                if debt_id in pdfs:
                    _settle(futures[debt_id], pdf=pdfs[debt_id])
                else:
                    _settle(futures[debt_id], error=PdfUnavailable(f"no boleto for {debt_id}"))

        step = self._batch_size
        try:
            await asyncio.gather(*(fetch(ids[i : i + step]) for i in range(0, len(ids), step)))
        finally:
            for future in futures.values():  # only if stopped half-way: nobody waits forever
                _settle(future, error=PdfUnavailable("stopped before the PDF arrived"))


def _settle(
    future: asyncio.Future[bytes], pdf: bytes | None = None, error: Exception | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(pdf or b"")


def _retrieve(future: asyncio.Future[bytes]) -> None:
    if not future.cancelled():
        future.exception()
