"""``python -m boletos_bench.progress_bench`` on a small file: the real ingest service follows
the reported boletos and e-mails to a complete report, and the figures say what it cost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from boletos_bench.progress_bench import run_store


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_a_small_file_is_followed_to_a_complete_report(tmp_path: Path) -> None:
    run = await run_store("sqlite", 1500, 2, 3000.0, 0.5, tmp_path, idle_seconds=0.5)

    # run_store raises unless the report shows every debt mailed with its boleto.
    assert run.report_lines == 1500
    assert [(p.name, p.debts) for p in run.phases] == [
        ("boletos issued", 1500),
        ("e-mails sent", 1500),
    ]
    assert all(p.cpu_s > 0 and p.wall_s > 0 for p in run.phases)
    # The e-mails were reported over half-second ticks at 3,000 a second: about a second.
    assert run.phases[1].wall_s >= 0.4
