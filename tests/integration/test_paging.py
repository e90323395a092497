"""Every listing RPC, through the real services on each database, given page tokens it never
gave: each is INVALID_ARGUMENT on `page_token`, and none leaves a traceback in the log."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
import pytest
from google.rpc import error_details_pb2

from boleto_service.api.remessa_rpcs import REMESSAS_PAGE
from boleto_service.api.servicer import BOLETOS_PAGE
from boletos.platform.errors import details_of
from boletos.platform.paging import Paging
from boletos.v1 import boleto_pb2, ingest_pb2, mailer_pb2
from ingest_service.api.servicer import UPLOADS_PAGE
from mailer_service.api.servicer import DELIVERIES_PAGE
from tests.support.boleto import running_boleto
from tests.support.ingest import running_ingest
from tests.support.mailer import running_mailer
from tests.support.processes import free_port
from tests.unit.test_paging import HOSTILE_TOKENS


@dataclass(frozen=True)
class Listing:
    """A listing RPC, called with a page token and nothing else it could be refused for."""

    call: Callable[[str], Awaitable[object]]
    paging: Paging

    def hostile_tokens(self) -> list[str]:
        return [*HOSTILE_TOKENS, str(self.paging.largest_key + 1)]


@dataclass
class Listings:
    by_rpc: dict[str, Listing]


@contextlib.asynccontextmanager
async def listings(databases: tuple[str, str, str], nats_url: str) -> AsyncIterator[Listings]:
    ingest_db, boleto_db, mailer_db = databases
    upload_id = str(uuid.uuid4())
    async with (
        running_ingest(ingest_db, nats_url) as ingest,
        running_boleto(boleto_db, nats_url) as boleto,
        running_mailer(mailer_db, nats_url, boleto.address, free_port()) as mailer,
    ):
        yield Listings(
            {
                "ListUploads": Listing(
                    lambda token: ingest.stub.ListUploads(
                        ingest_pb2.ListUploadsRequest(page_token=token)
                    ),
                    UPLOADS_PAGE,
                ),
                "ListBoletos": Listing(
                    lambda token: boleto.stub.ListBoletos(
                        boleto_pb2.ListBoletosRequest(upload_id=upload_id, page_token=token)
                    ),
                    BOLETOS_PAGE,
                ),
                "ListRemessas": Listing(
                    lambda token: boleto.stub.ListRemessas(
                        boleto_pb2.ListRemessasRequest(page_token=token)
                    ),
                    REMESSAS_PAGE,
                ),
                "ListDeliveries": Listing(
                    lambda token: mailer.stub.ListDeliveries(
                        mailer_pb2.ListDeliveriesRequest(upload_id=upload_id, page_token=token)
                    ),
                    DELIVERIES_PAGE,
                ),
            }
        )


async def _answer(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    """The call's status, and the field a refusal names."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        fields = [
            v.field
            for d in details_of(exc)
            if isinstance(d, error_details_pb2.BadRequest)
            for v in d.field_violations
        ]
        return exc.code(), ",".join(fields)
    return grpc.StatusCode.OK, ""


async def test_every_listing_refuses_every_token_it_did_not_give(
    databases: tuple[str, str, str], nats_server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with listings(databases, nats_server.url) as rpcs:
        caplog.clear()
        answers = {
            (rpc, token): await _answer(listing.call(token))
            for rpc, listing in rpcs.by_rpc.items()
            for token in listing.hostile_tokens()
        }
        logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    wrong = {
        case: answer
        for case, answer in answers.items()
        if answer != (grpc.StatusCode.INVALID_ARGUMENT, "page_token")
    }
    assert wrong == {}
    assert [f"{r.name}: {r.getMessage()}" for r in logged] == []


async def test_the_largest_token_reaches_every_store_and_is_answered(
    databases: tuple[str, str, str], nats_server, caplog: pytest.LogCaptureFixture
) -> None:
    """The bound is each listing's column's, not an accident of the parser: the largest key
    a token may name goes through to SQLite and PostgreSQL and comes back as an answer."""
    caplog.set_level(logging.INFO)
    async with listings(databases, nats_server.url) as rpcs:
        caplog.clear()
        answers = {
            rpc: (await _answer(listing.call(str(listing.paging.largest_key))))[0]
            for rpc, listing in rpcs.by_rpc.items()
        }
        logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert answers == {
        "ListUploads": grpc.StatusCode.OK,
        "ListBoletos": grpc.StatusCode.OK,
        "ListRemessas": grpc.StatusCode.OK,
        # The mailer has never heard of the upload: the token was read, then the upload looked up.
        "ListDeliveries": grpc.StatusCode.NOT_FOUND,
    }
    assert [f"{r.name}: {r.getMessage()}" for r in logged] == []
