"""grpc's asyncio client can lose the service's answer to an upload the service ends early
(grpc/grpc#36066): a chunk being written as the call ends turns the answer into an INTERNAL
of grpc's own. The CLI then asks the service what became of the upload, by its request id,
and says that instead of "Internal error from Core"."""

from __future__ import annotations

import grpc
import pytest

from boletos_cli.commands.upload import lost_to_a_late_write, raise_outcome
from boletos_cli.failures import CliError
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import requests, running_ingest, upload

LATE_WRITE = grpc.aio.AioRpcError(
    grpc.StatusCode.INTERNAL,
    grpc.aio.Metadata(),
    grpc.aio.Metadata(),
    details="Internal error from Core",
    debug_error_string='Failed "execute_batch": (<SendMessageOperation>,)',
)


def test_only_grpcs_own_late_write_error_is_taken_for_a_lost_answer() -> None:
    assert lost_to_a_late_write(LATE_WRITE)
    other = grpc.aio.AioRpcError(
        grpc.StatusCode.INTERNAL, grpc.aio.Metadata(), grpc.aio.Metadata(), details="boom"
    )
    assert not lost_to_a_late_write(other)


async def test_a_refused_file_is_told_as_refused_when_grpc_lost_the_answer(
    database_url, nats_server
):
    data = csv_bytes(valid_rows(3), header="name,cpf,email,debtAmount,debtDueDate,debtId")
    async with running_ingest(database_url, nats_server.url) as svc:
        with pytest.raises(grpc.aio.AioRpcError):
            await svc.stub.Upload(iter(requests(data, request_id="cli-refused")))
        await upload(svc.stub, csv_bytes(valid_rows(2)), request_id="cli-later")

        with pytest.raises(CliError) as told:
            await raise_outcome(svc.stub, "cli-refused", LATE_WRITE)
        assert "refused" in str(told.value)
        assert "missing column(s): governmentId; unknown column(s): cpf" in str(told.value)

        # An upload the service completed, or one it never heard of, leaves the error as it is.
        await raise_outcome(svc.stub, "cli-later", LATE_WRITE)
        await raise_outcome(svc.stub, "cli-unknown", LATE_WRITE)
