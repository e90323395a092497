"""``python -m boletos_bench.ingest_floor`` on a small file: every part runs on the file's
rows for real, and the floor is what its parts add up to."""

from __future__ import annotations

from pathlib import Path

import pytest

from boletos_bench.ingest_floor import measure
from boletos_testing.datagen import write_csv

ROWS = 3_000


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_the_floor_is_made_of_the_whole_file_stored(
    store: str, tmp_path: Path, postgres_admin_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOLETOS_BENCH_POSTGRES_URL", postgres_admin_url)
    csv_path = write_csv(tmp_path / "debts.csv", ROWS, seed=7)

    floor = measure(csv_path, store, tmp_path)

    assert floor.rows == ROWS
    # The generated file's rows are all valid and distinct: the store holds every one.
    assert floor.stored == ROWS
    assert min(floor.split_s, floor.prepare_s, floor.store_cpu_s, floor.yardstick_s) > 0
    assert floor.serial_s == floor.split_s + floor.store_s
    assert floor.floor_s == max(floor.serial_s, floor.shared_s)
    lines = list(floor.lines())
    assert lines[0].startswith(f"{store}: 3,000 rows")
    assert lines[-1].lstrip().startswith("floor")
