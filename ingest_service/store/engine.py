"""The ingest store's engines, tuned for bulk ingestion."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from boletos.platform import database
from boletos.platform.migrations import History, upgrade

HISTORY = History(
    "ingest_service",
    Path(__file__).parent / "migrations",
    first_revision="0001",
    marker_table="uploads",
)


SQLITE_PAGE_SIZE = 16384  # large pages halve the cost of random-key B-tree inserts
# Each SQLite connection keeps a page cache of its own. Block writes need a large one (a
# transaction's dirty pages must fit, or they are written twice), and so do the progress
# writes (each moves debts all over the id index); everything else (reads, the outbox relay
# streaming payloads through) does fine with a small one, and would otherwise fill its own
# large cache with pages read once.
SQLITE_CACHE_KIB = 8 * 1024
# New ids land all over the id index: a cache that holds the index of a 1.1M-row file
# (about 100 MB with the debts' other columns) reads no page twice within a transaction.
# 64 MB held about half of it: 8.9 s for the file through the service, 7.0-7.3 s with this.
SQLITE_BULK_CACHE_KIB = 256 * 1024


def create_engine(url: str, bulk: bool = False) -> Engine:
    """The store's engine; `bulk` for the one that writes blocks (see SQLITE_CACHE_KIB)."""
    return database.create_engine(
        url,
        sqlite_cache_kib=SQLITE_BULK_CACHE_KIB if bulk else SQLITE_CACHE_KIB,
        sqlite_page_size=SQLITE_PAGE_SIZE,
    )


def upgrade_schema(engine: Engine) -> None:
    """The newest schema, for tests and tools that make a store of their own."""
    upgrade(engine, HISTORY)
