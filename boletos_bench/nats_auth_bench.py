"""``python -m boletos_bench.nats_auth_bench``: what NATS authorization costs the pipeline.

Two nats-servers in turn, one letting anyone in and one with the services' users and
permissions (nats_permissions, as the stack and the deployments run it). On each, the
ingest user publishes N messages of DebtsImported's size to its stream, acknowledged, and
the boleto user fetches and acknowledges them through its durable consumer: the two NATS
legs every debt takes. Alternated, so load affects both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import nats

from boletos.platform.nats_auth import NatsAuth
from boletos.platform.nats_streams import SUBJECT_DEBTS_IMPORTED, ensure_streams
from boletos.provision import ensure_secrets
from boletos_bench.machine import machine_state
from boletos_testing.processes import NatsServer

# A DebtsImported message carries 1,000 debts in about 100 KB; this is one debt's share of
# ten, so a run is many messages rather than a few large ones.
PAYLOAD = b"x" * 1000
IN_FLIGHT = 1000


async def _legs(
    url: str, publisher: dict[str, str], consumer: dict[str, str], n: int
) -> tuple[float, float]:
    nc = await nats.connect(url, **publisher)
    js = nc.jetstream()
    await ensure_streams(js, names=("INGEST",))
    started = time.perf_counter()
    for _ in range(0, n, IN_FLIGHT):
        await asyncio.gather(
            *(js.publish(SUBJECT_DEBTS_IMPORTED, PAYLOAD) for _ in range(IN_FLIGHT))
        )
    published = n / (time.perf_counter() - started)
    await nc.close()
    nc = await nats.connect(url, **consumer)
    sub = await nc.jetstream().pull_subscribe(
        SUBJECT_DEBTS_IMPORTED, durable="boleto-service", stream="INGEST"
    )
    started, got = time.perf_counter(), 0
    while got < n:
        msgs = await sub.fetch(500, timeout=10)
        await asyncio.gather(*(m.ack() for m in msgs))
        got += len(msgs)
    consumed = n / (time.perf_counter() - started)
    await nc.close()
    return published, consumed


async def run(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nats-auth-bench-") as tmp:
        workdir = Path(tmp)
        secrets = ensure_secrets(workdir / "secrets", services=())
        for key, value in machine_state().items():
            print(f"{key:30} {value}")
        for round_no in range(rounds):
            for mode in ("off", "on"):
                store = workdir / f"nats-{mode}-{round_no}"
                if mode == "off":
                    server = NatsServer(store).start()
                    publisher: dict[str, str] = {}
                    consumer: dict[str, str] = {}
                else:
                    server = NatsServer(store, authorization=secrets.nats_authorization()).start()
                    publisher = NatsAuth.read(secrets.nats_env("ingest")).connect_options()
                    consumer = NatsAuth.read(secrets.nats_env("boleto")).connect_options()
                try:
                    published, consumed = await _legs(server.url, publisher, consumer, n)
                finally:
                    server.stop()
                print(
                    f"authorization {mode:3}: publish {published:,.0f} msg/s, "
                    f"fetch+ack {consumed:,.0f} msg/s ({n:,} messages of {len(PAYLOAD)} B)"
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.nats_auth_bench")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    asyncio.run(run(args.messages, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
