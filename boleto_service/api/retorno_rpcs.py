"""BoletoService.ProcessRetorno: a bank's retorno file streamed in, its summary out.

The bytes are spooled to a temporary file while they are hashed (the SHA-256 is the file's
id, which makes a repeat recognisable before any line is read), then the file is processed
from disk in a worker thread: read once to check it is a whole retorno, then applied batch by
batch. A file refused by the check is answered INVALID_ARGUMENT (what is wrong with the file:
RETORNO_NOT_CNAB240, RETORNO_NOT_A_RETORNO, RETORNO_INCOMPLETE, RETORNO_MALFORMED,
RETORNO_COUNTS_DISAGREE) or FAILED_PRECONDITION (RETORNO_BANK_NOT_SERVED: a bank this service
has no boleto of), with nothing applied or recorded. A client that cancels while the file is
being applied does not stop it: the batches and the file's record are written all the same,
and sending the file again answers with that summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, NoReturn

import grpc

from boleto_service.service.retornos import (
    BANK_NOT_SERVED,
    ProcessRetornos,
    RetornoRefused,
    Summary,
)
from boletos.platform import errors
from boletos.platform.access import interceptor as audit
from boletos.platform.logs import get_logger
from boletos.v1 import boleto_pb2

log = get_logger("boleto")


def summary_message(s: Summary) -> boleto_pb2.RetornoSummary:
    return boleto_pb2.RetornoSummary(
        retorno_id=s.retorno_id,
        file_name=s.file_name,
        already_processed=s.already_processed,
        bank_code=s.bank_code,
        occurrences=s.occurrences,
        registered=s.registered,
        rejected=s.rejected,
        paid=s.paid,
        paid_cents=s.paid_cents,
        written_off=s.written_off,
        other=s.other,
        amount_mismatches=s.amount_mismatches,
        repeated_occurrences=s.repeated_occurrences,
        problems=[
            boleto_pb2.RetornoProblem(line=p.line, reason=p.reason) for p in s.listed_problems()
        ],
    )


class RetornoRpcs:
    """Mixin for BoletoServicer. Needs `self._retornos`, a ProcessRetornos; the other
    attributes have defaults a subclass or instance may replace."""

    _retornos: ProcessRetornos
    # Where uploads are spooled; None is the system's temporary directory.
    _retorno_spool_dir: Path | None = None
    # A client quiet for this long is holding a spool file and a slot for nothing.
    _retorno_idle_seconds: float = 60.0
    # A day of 1.1M titles is about 530 MB; ten times that is not a retorno.
    _retorno_max_bytes: int = 8 << 30

    async def ProcessRetorno(
        self,
        request_iterator: AsyncIterator[boleto_pb2.ProcessRetornoRequest],
        context: grpc.aio.ServicerContext,
    ) -> boleto_pb2.ProcessRetornoResponse:
        requests = aiter(request_iterator)
        first = await self._next_retorno_message(requests, context)
        if first is None or first.WhichOneof("payload") != "header":
            await errors.invalid_argument(
                context,
                "header",
                "the first message of a retorno must be its header (the file's name)",
                "HEADER_FIRST",
            )
        file_name = first.header.file_name.strip()
        if not file_name:
            await errors.invalid_argument(
                context, "header.file_name", "the retorno file's name is required"
            )
        fd, name = tempfile.mkstemp(prefix="retorno-", suffix=".ret", dir=self._retorno_spool_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as spool:
                retorno_id, size = await self._spool(requests, spool, context)
            if size == 0:
                await errors.invalid_argument(
                    context, "chunk", "the retorno file is empty", "EMPTY_FILE"
                )
            audit.note(retorno_id=retorno_id)
            log.info("retorno.received", retorno_id=retorno_id, bytes=size)
            try:
                summary = await asyncio.to_thread(
                    self._retornos.process, path, retorno_id, file_name
                )
            except RetornoRefused as refused:
                await _refuse(context, refused, retorno_id)
        finally:
            # Once open in the worker, the file stays readable to it after the unlink.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
        return boleto_pb2.ProcessRetornoResponse(summary=summary_message(summary))

    async def _spool(
        self,
        requests: AsyncIterator[boleto_pb2.ProcessRetornoRequest],
        spool: BinaryIO,
        context: grpc.aio.ServicerContext,
    ) -> tuple[str, int]:
        """Writes the chunks to `spool`; returns the bytes' SHA-256 and their count."""
        digest = hashlib.sha256()
        size = 0
        while (request := await self._next_retorno_message(requests, context)) is not None:
            if request.WhichOneof("payload") != "chunk":
                await errors.invalid_argument(
                    context,
                    "header",
                    "after the header a retorno carries only chunks",
                    "HEADER_REPEATED",
                )
            chunk = request.chunk
            size += len(chunk)
            if size > self._retorno_max_bytes:
                await errors.abort(
                    context,
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"a retorno is at most {self._retorno_max_bytes} bytes",
                    errors.error_info("RETORNO_TOO_LARGE", limit=str(self._retorno_max_bytes)),
                )
            digest.update(chunk)
            spool.write(chunk)
        return digest.hexdigest(), size

    async def _next_retorno_message(
        self,
        requests: AsyncIterator[boleto_pb2.ProcessRetornoRequest],
        context: grpc.aio.ServicerContext,
    ) -> boleto_pb2.ProcessRetornoRequest | None:
        # Not wait_for: on Python 3.11 it would wait for grpc's read to give up on a cancel.
        try:
            async with asyncio.timeout(self._retorno_idle_seconds):
                return await anext(requests, None)
        except TimeoutError:
            await errors.abort(
                context,
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"nothing arrived for {self._retorno_idle_seconds:g}s",
                errors.error_info("RETORNO_IDLE"),
            )


async def _refuse(
    context: grpc.aio.ServicerContext, refused: RetornoRefused, retorno_id: str
) -> NoReturn:
    message = f"retorno refused, nothing in it applied or recorded: {refused.message}"
    if refused.reason == BANK_NOT_SERVED:
        await errors.failed_precondition(
            context,
            refused.reason,
            f"bank {refused.bank_code}",
            message,
            bank_code=refused.bank_code,
            retorno_id=retorno_id,
        )
    await errors.abort(
        context,
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
        errors.error_info(refused.reason, retorno_id=retorno_id, line=str(refused.line)),
        errors.bad_request("chunk", refused.message),
    )
