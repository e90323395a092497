"""``python -m boletos_bench.ingest_floor``: the least time ingest as built could take for a
file on this machine, from its parts timed one at a time in one process.

The service splits the stream into blocks, validates and encodes each block in worker
processes (`prepare`), and stores the prepared blocks from one process, since the store has
one writer. Here, without the service, each of the three runs over the whole file:

- split: the LineAssembler cutting 64 KiB chunks into blocks;
- prepare: every block validated and encoded;
- store: the BlockWriter storing every prepared block into a fresh store (debts, outcomes,
  events into the outbox, counts), committing about once a second as the service does; its
  wall time where that is longer than its CPU time (the database server's work on
  PostgreSQL).

Everything else the service does (gRPC, handing blocks to the workers and back, publishing
the outbox) is left out, so any real upload takes longer than the floor:

    floor = max(split + store, (split + prepare + store) / cores)

the first term being the one process that receives and writes, the second all the CPU
shared by the cores. Each is reported in seconds and as a multiple of a plain csv.reader
pass over the same file, the yardstick of `python -m boletos_bench`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from boletos.platform import heap
from boletos_bench.__main__ import csv_reader_seconds
from boletos_bench.ingest_bench import STORES, database_for
from boletos_testing.datagen import DEFAULT_SEED, cached_csv
from ingest_service.domain.columns import Rules
from ingest_service.domain.lines import (
    DEFAULT_BLOCK_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    Item,
    LineAssembler,
)
from ingest_service.service.block_writer import BlockWriter
from ingest_service.service.events import upload_completed
from ingest_service.service.prepare import PreparedBlock, prepare
from ingest_service.store.engine import create_engine, upgrade_schema
from ingest_service.store.repository import IngestStore
from ingest_service.store.tables import debts

CHUNK_BYTES = 64 * 1024
T = TypeVar("T")


def timed_cpu(work: Callable[[], T]) -> tuple[T, float]:
    started = time.process_time()
    result = work()
    return result, time.process_time() - started


def split(data: bytes) -> tuple[bytes, list[Item]]:
    assembler = LineAssembler(DEFAULT_BLOCK_BYTES, DEFAULT_MAX_LINE_BYTES)
    items: list[Item] = []
    for start in range(0, len(data), CHUNK_BYTES):
        items.extend(assembler.feed(data[start : start + CHUNK_BYTES]))
    items.extend(assembler.finish())
    assert assembler.header is not None
    return assembler.header, items


def prepare_all(header: bytes, items: list[Item]) -> list[PreparedBlock]:
    rules = Rules.on(dt.date.today())
    return [prepare(header, item, DEFAULT_MAX_LINE_BYTES, rules) for item in items]


@dataclass(frozen=True)
class Floor:
    store: str
    rows: int
    stored: int  # debts in the store afterwards
    yardstick_s: float
    split_s: float
    prepare_s: float
    store_cpu_s: float
    store_wall_s: float
    cores: int

    @property
    def store_s(self) -> float:
        # The writer waits for the database server's work, which runs apart from its own.
        return max(self.store_cpu_s, self.store_wall_s)

    @property
    def serial_s(self) -> float:
        return self.split_s + self.store_s

    @property
    def shared_s(self) -> float:
        return (self.split_s + self.prepare_s + self.store_s) / self.cores

    @property
    def floor_s(self) -> float:
        return max(self.serial_s, self.shared_s)

    def lines(self) -> Iterator[str]:
        y = self.yardstick_s
        yield f"{self.store}: {self.rows:,} rows, csv.reader {y:.2f} s (least of three)"
        for name, seconds in (
            ("split", self.split_s),
            ("prepare", self.prepare_s),
            ("store", self.store_s),
        ):
            yield (
                f"  {name:<8} {seconds:6.2f} s  {seconds / y:5.1f}x csv.reader  "
                f"{seconds / self.rows * 1e6:5.2f} us a row"
            )
        yield (
            f"  (store: {self.store_cpu_s:.2f} CPU s in this process, "
            f"{self.store_wall_s:.2f} s of wall time)"
        )
        for name, seconds in (
            ("one process (split + store)", self.serial_s),
            (f"all of it over {self.cores} cores", self.shared_s),
            ("floor", self.floor_s),
        ):
            yield f"  {name:<34} {seconds:6.2f} s  {seconds / y:5.1f}x"


def store_all(url: str, blocks: list[PreparedBlock]) -> tuple[float, float, int]:
    """(CPU s of this process, wall s, debts stored)."""
    engine, bulk = create_engine(url), create_engine(url, bulk=True)
    upgrade_schema(engine)
    store = IngestStore(engine, upload_completed, bulk)
    upload = store.create_upload("floor.csv", "")
    writer = BlockWriter(store, upload, on_commit=lambda: None)
    started, wall = time.process_time(), time.perf_counter()
    for block in blocks:
        writer.write(block, 0)
    writer.commit()
    spent, wall = time.process_time() - started, time.perf_counter() - wall
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(debts)).scalar_one()
    engine.dispose()
    bulk.dispose()
    return spent, wall, stored


def measure(csv_path: Path, store: str, workdir: Path) -> Floor:
    yardstick = min(csv_reader_seconds(csv_path) for _ in range(3))
    data = csv_path.read_bytes()
    (header, items), split_s = timed_cpu(lambda: split(data))
    blocks, prepare_s = timed_cpu(lambda: prepare_all(header, items))
    with database_for(store, workdir) as url:
        store_cpu, store_wall, stored = store_all(url, blocks)
    return Floor(
        store=store,
        rows=sum(b.rows for b in blocks),
        stored=stored,
        yardstick_s=yardstick,
        split_s=split_s,
        prepare_s=prepare_s,
        store_cpu_s=store_cpu,
        store_wall_s=store_wall,
        cores=len(os.sched_getaffinity(0)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m boletos_bench.ingest_floor", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--stores", default="sqlite,postgres", help=f"comma-separated: {', '.join(STORES)}"
    )
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    args = parser.parse_args(argv)
    csv_path = cached_csv(args.rows, args.seed, args.data_dir)
    heap.freeze_startup_objects()  # as the service does once started
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory(prefix="ingest-floor-") as workdir:
            for line in measure(csv_path, store, Path(workdir)).lines():
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
