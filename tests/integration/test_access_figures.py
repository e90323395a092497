"""Figures for the credential checks, printed, not asserted (timings are the machine's):

    BOLETOS_MEASURE_ACCESS=1 .venv/bin/python -m pytest -s -p no:cacheprovider \\
        tests/integration/test_access_figures.py

an admin's authenticated call with its key remembered, alone and while guessers hammer the
service; and how long a refusal takes for a wrong secret and for an id that does not exist.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time

import grpc
import pytest

from boletos.v1 import ingest_pb2, ingest_pb2_grpc, keys_pb2, keys_pb2_grpc
from tests.support import access
from tests.support.ingest import running_ingest

pytestmark = pytest.mark.skipif(
    not os.environ.get("BOLETOS_MEASURE_ACCESS"), reason="set BOLETOS_MEASURE_ACCESS=1"
)
CALLS, GUESSES, CONCURRENCY = 200, 400, 16


async def _timed(stub: ingest_pb2_grpc.IngestServiceStub, bearer: str) -> float:
    started = time.perf_counter()
    try:
        await stub.ListUploads(
            ingest_pb2.ListUploadsRequest(page_size=1),
            metadata=(("authorization", f"Bearer {bearer}"),),
        )
    except grpc.aio.AioRpcError:
        pass
    return (time.perf_counter() - started) * 1000


def _figures(label: str, ms: list[float]) -> None:
    q = statistics.quantiles(ms, n=100)
    print(f"{label}: n={len(ms)} p50={q[49]:.1f} ms p90={q[89]:.1f} ms p99={q[98]:.1f} ms")


async def test_print_the_figures(tmp_path, nats_server):
    async with running_ingest(f"sqlite:///{tmp_path / 'ingest.db'}", nats_server.url) as ingest:
        made = await keys_pb2_grpc.KeyServiceStub(ingest.channel).CreateKey(
            keys_pb2.CreateKeyRequest(name="probe", role=keys_pb2.KEY_ROLE_VIEWER)
        )
        key_id = made.key.key_id
        async with access.channel(ingest.address, key="") as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            admin = access.admin_key()
            await _timed(stub, admin)  # remembered from here on
            _figures("warm admin call, idle", [await _timed(stub, admin) for _ in range(CALLS)])

            # Fresh ids, below the limits: what a refusal costs, known id or not.
            wrong = [await _timed(stub, f"bk_{key_id}_{'W' * 43}") for _ in range(10)]
            unknown = [
                await _timed(stub, f"bk_{secrets.token_hex(6)}_{'W' * 43}") for _ in range(10)
            ]
            print(f"refusal, wrong secret: median {statistics.median(wrong):.1f} ms")
            print(f"refusal, unknown id:   median {statistics.median(unknown):.1f} ms")

            queue: asyncio.Queue[str] = asyncio.Queue()
            for _ in range(GUESSES):
                queue.put_nowait(f"bk_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}")
            outcomes: list[float] = []

            async def guesser() -> None:
                while not queue.empty():
                    outcomes.append(await _timed(stub, queue.get_nowait()))

            guessers = [asyncio.create_task(guesser()) for _ in range(CONCURRENCY)]
            during = []
            while not queue.empty():
                during.append(await _timed(stub, admin))
            await asyncio.gather(*guessers)
            _figures(f"warm admin call, {GUESSES} guesses at concurrency {CONCURRENCY}", during)
            _figures("the guesses themselves", outcomes)
