"""``python -m boletos_bench.e2e`` on a small file: the real stack, measured and checked."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from boletos_bench import e2e


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_small_file_is_measured_through_a_replicated_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.json"
    code = e2e.main(
        ["--rows", "300", "--replicas", "boleto=2,mailer=2", "--data-dir", str(tmp_path),
         "--json", str(results)]
    )  # fmt: skip

    assert code == 0, capsys.readouterr().out
    (run,) = json.loads(results.read_text())["runs"]
    assert run["replicas"] == "boleto=2,mailer=2" and run["failures"] == []
    assert run["accepted"] == run["emails_in_maildir"] == run["emails_sent"] == 300
    assert set(run["per_cpu_second"]) == {"ingest", "boleto", "mailer", "smtp"}
    assert all(rate > 0 for rate in run["per_cpu_second"].values())
    seconds = run["seconds"]
    assert 0 < seconds["upload"] <= seconds["boletos"] <= seconds["emails"]
    assert 0 < seconds["last_email_in_maildir"] <= seconds["emails"]
    processes = {p["name"]: p for p in run["processes"]}
    assert set(processes) == {"nats", "smtp", "ingest", "boleto-1", "boleto-2", "mailer-1",
                              "mailer-2", "gateway"}  # fmt: skip
    assert all(p["peak_rss_bytes"] > 0 for p in processes.values())
    # The kernel's part of each Python process's CPU time: its start alone reads hundreds of
    # files and runs seconds of its own code, so some of each, always (nats-server's may round
    # to nothing on so small a file).
    assert all(0 < p["system_s"] < p["cpu_s"] for name, p in processes.items() if name != "nats")
    sent = processes["mailer-1"]["work"]["sent"] + processes["mailer-2"]["work"]["sent"]
    assert sent == 300
    # Measured, the stores and Maildir go; the stack's log stays for a look afterwards.
    assert not (tmp_path / "e2e" / "boleto2-mailer2").exists()
    assert "service.stopped" in (tmp_path / "e2e" / "boleto2-mailer2.log").read_text()
