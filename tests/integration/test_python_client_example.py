"""The Python client example in the docs works as written: against a real ingest service,
over TLS with a key from a file, it uploads a file and follows its progress."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.support import access
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest
from tests.support.processes import python_env

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "python_client.py"


async def test_the_example_uploads_and_follows_a_file(tmp_path, database_url, nats_server) -> None:
    data = tmp_path / "debts.csv"
    data.write_bytes(csv_bytes(valid_rows(5, seed=8)))
    key_file = tmp_path / "admin.key"
    key_file.write_text(access.admin_key() + "\n")
    async with running_ingest(database_url, nats_server.url) as ingest:
        # The service runs in this event loop: the example must not block it.
        example = await asyncio.create_subprocess_exec(
            sys.executable, str(EXAMPLE), str(data), "--address", ingest.address,
            "--ca", str(access.secrets().ca), "--key-file", str(key_file),
            "--follow-seconds", "3",
            env=python_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(example.communicate(), 60)
    assert example.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    summary = lines[0]["summary"]
    assert (summary["state"], summary["accepted"]) == ("UPLOAD_STATE_COMPLETED", "5")
    # No boleto service runs here: progress shows the five debts waiting for their boletos.
    assert lines[1]["progress"]["accepted"] == "5"
    assert "boletosIssued" not in lines[1]["progress"]
