"""Boleto records for a whole file: the boleto service consuming DebtsImported events until
every debt has its boleto (math and store, no PDF).

The events are the ones ingest would publish for the file, built with the same code and
published before the clock starts, so only the boleto service is measured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from boletos.platform.nats_streams import SUBJECT_BOLETOS_ISSUED, ensure_streams
from boletos.v1 import events_pb2
from boletos_bench.procs import peak_rss_bytes, process_tree
from boletos_bench.secured import bench_access
from boletos_testing.ports import free_port
from boletos_testing.processes import NatsServer, ServiceProcess
from ingest_service.domain.columns import Rules
from ingest_service.domain.lines import Item, LineAssembler
from ingest_service.service.events import stamped
from ingest_service.service.prepare import prepare


@dataclass
class BoletoRun:
    debts: int
    issued: int
    wall_s: float
    peak_rss_bytes: int | None  # of the largest replica
    replicas: int

    @property
    def per_s(self) -> float:
        return self.issued / self.wall_s if self.wall_s else 0.0


# The boletos are issued as of today; the file's debts must be valid as of today too.
RULES = Rules.on(dt.date.today())


async def _publish_file(nats_url: str, csv_path: Path) -> int:
    """Publishes the file's DebtsImported events; returns how many debts they carry."""
    upload_id = str(uuid.uuid4())
    assembler = LineAssembler()
    seq = debts = 0
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js)

    async def send(items: list[Item]) -> None:
        nonlocal seq, debts
        for item in items:
            assert assembler.header is not None
            block = prepare(assembler.header, item, 16 << 10, RULES)
            debts += len(block.keys) // 16
            acks = []
            for body in block.event_bodies:
                subject, msg_id, payload = stamped(upload_id, seq, body)
                seq += 1
                acks.append(js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id}))
            await asyncio.gather(*acks)

    with csv_path.open("rb") as f:
        while chunk := f.read(1 << 20):
            await send(assembler.feed(chunk))
    await send(assembler.finish())
    await nc.close()
    return debts


async def count_issued(nats_url: str, expected: int, within: float) -> int:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(
            SUBJECT_BOLETOS_ISSUED,
            stream="BOLETO",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        issued = 0
        deadline = time.monotonic() + within
        while issued < expected and time.monotonic() < deadline:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            for msg in msgs:
                issued += len(events_pb2.BoletosIssued.FromString(msg.data).boletos)
                await msg.ack()
        return issued
    finally:
        await nc.close()


async def bench_boletos(csv_path: Path, replicas: int = 1, within: float = 900) -> BoletoRun:
    """`replicas` boleto services share the work through one durable consumer and one store."""
    with tempfile.TemporaryDirectory(prefix="boleto-bench-") as tmp:
        workdir = Path(tmp)
        server = NatsServer(workdir / "nats").start()
        services: list[ServiceProcess] = []
        try:
            debts = await _publish_file(server.url, csv_path)
            access = bench_access(workdir)
            services = [
                ServiceProcess(
                    "boleto_service",
                    {
                        **access.service_env(),
                        "GRPC_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
                        "DATABASE_URL": f"sqlite:///{workdir / 'boleto.db'}",
                        "NATS_URL": server.url,
                        "LOG_LEVEL": "WARNING",
                    },
                    workdir / f"boleto-{n}.log",
                )
                for n in range(replicas)
            ]
            started = time.perf_counter()
            for service in services:
                service.start()
            issued = await count_issued(server.url, debts, within)
            wall = time.perf_counter() - started
            rss = max(
                sum(peak_rss_bytes(pid) or 0 for pid in process_tree(service.pid))
                for service in services
            )
            return BoletoRun(debts, issued, wall, rss or None, replicas)
        finally:
            for service in services:
                service.stop()
            server.stop()
