"""The gateway benchmark on a file of a couple of hundred thousand rows: every row reaches
ingest through `curl -F`, and the gateway's memory stays flat (it streams the body on; one
that buffered it would grow by the file's size)."""

from __future__ import annotations

from pathlib import Path

from boletos_bench.gateway_bench import MIB, run


def test_a_file_streams_through_the_gateway_with_flat_memory(tmp_path: Path) -> None:
    result = run(200_000, tmp_path)
    assert result.accepted == 200_000
    assert result.file_bytes > 18 * MIB
    # Flat: a fraction of the file, whatever its size (1.1M rows: see docs/benchmarks.md).
    assert result.rss_growth < 12 * MIB, result
    assert result.gateway_cpu_seconds > 0
