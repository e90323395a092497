"""The three services and the gateway in front of them, once per module, on one event loop:
NATS, the services' stores and an SMTP sink are real."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.boleto import running_boleto
from tests.support.gateway import running_gateway
from tests.support.ingest import running_ingest
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.processes import NatsServer, free_port


@dataclass
class Stack:
    url: str
    ingest: str
    boleto: str
    mailer: str
    sink: Sink
    root: Path


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("gateway")
    nats = NatsServer(root / "nats").start()
    # Chosen first: the mailer's e-mails link to the debtors' pages on it.
    port = free_port()
    sink = Sink()
    try:
        with smtp_sink(sink) as smtp:
            async with contextlib.AsyncExitStack() as running:
                ingest = await running.enter_async_context(
                    running_ingest(f"sqlite:///{root / 'ingest.db'}", nats.url)
                )
                boleto = await running.enter_async_context(
                    running_boleto(
                        f"sqlite:///{root / 'boleto.db'}",
                        nats.url,
                        REMESSA_DIR=str(root / "remessas"),
                        BENEFICIARY_AGENCIA_DV="3",
                        BENEFICIARY_VARIACAO_CARTEIRA="19",
                        PIX_KEY="11222333000181",
                        PIX_MERCHANT_CITY="SAO PAULO",
                    )
                )
                mailer = await running.enter_async_context(
                    running_mailer(
                        f"sqlite:///{root / 'mailer.db'}",
                        nats.url,
                        boleto.address,
                        smtp.port,
                        PUBLIC_BASE_URL=f"https://127.0.0.1:{port}",
                    )
                )
                url = await running.enter_async_context(
                    running_gateway(ingest.address, boleto.address, mailer.address, port=port)
                )
                yield Stack(url, ingest.address, boleto.address, mailer.address, sink, root)
    finally:
        nats.stop()
