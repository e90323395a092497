"""Runs the real boleto service, in-process or as replicas in their own processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from boleto_service.app import run
from boleto_service.config import Settings
from boletos.v1 import boleto_pb2_grpc, events_pb2
from tests.support.processes import free_port, python_env
from tests.support.running import running_service


@dataclass
class RunningBoleto:
    address: str
    stub: boleto_pb2_grpc.BoletoServiceStub


@contextlib.asynccontextmanager
async def running_boleto(
    database_url: str, nats_url: str, **env: str
) -> AsyncIterator[RunningBoleto]:
    async with running_service(run, Settings.from_env, database_url, nats_url, env) as (
        address,
        channel,
        _settings,
    ):
        yield RunningBoleto(address, boleto_pb2_grpc.BoletoServiceStub(channel))


class BoletoReplica:
    """`python -m boleto_service` in its own process, logging JSON to a file."""

    def __init__(self, database_url: str, nats_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log = log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "boleto_service"],
            env=python_env(
                GRPC_LISTEN_ADDR=f"127.0.0.1:{self.port}",
                DATABASE_URL=database_url,
                NATS_URL=nats_url,
                LOG_LEVEL="INFO",
                # A killed replica's messages go to the others this soon.
                BOLETO_ACK_WAIT_SECONDS="3",
            ),
            stderr=self._log,
        )

    def events(self) -> list[dict]:
        return [
            json.loads(line)
            for line in self.log_path.read_text().splitlines()
            if line.startswith("{")
        ]

    def issued(self) -> int:
        return sum(e.get("issued", 0) for e in self.events() if e["event"] == "boleto.batch_issued")

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout)
        self._log.close()
        return code

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._log.close()


async def announced(nats_url: str, subject: str, expected: int, within: float = 60) -> list:
    """Every item on a BOLETO-stream subject, read by a fresh consumer."""
    parsers: dict[
        str, Callable[[bytes], Iterable[events_pb2.IssuedBoleto | events_pb2.FailedBoleto]]
    ] = {
        "boleto.boletos.issued": lambda d: events_pb2.BoletosIssued.FromString(d).boletos,
        "boleto.boletos.failed": lambda d: events_pb2.BoletosFailed.FromString(d).failures,
    }
    parse = parsers[subject]
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(
            subject, stream="BOLETO", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        items: list = []
        deadline = asyncio.get_running_loop().time() + within
        while True:
            try:
                msgs = await sub.fetch(50, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                if len(items) >= expected or asyncio.get_running_loop().time() > deadline:
                    return items
                continue
            for msg in msgs:
                items.extend(parse(msg.data))
                await msg.ack()
    finally:
        await nc.close()


def imported_debt(**fields: object) -> events_pb2.ImportedDebt:
    """One debt as a DebtsImported event carries it; `fields` replace the sample's."""
    values: dict[str, Any] = dict(
        debt_id="8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10",
        name="Miss Lisa Wright MD",
        government_id="4821",
        email="lisa@example.com",
        amount_cents=781100,
        due_date="2023-05-01",
        line=7,
        government_id_kind=events_pb2.GOVERNMENT_ID_KIND_OTHER,
    )
    values.update(fields)
    return events_pb2.ImportedDebt(**values)
