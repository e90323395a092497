"""The real ingest service as a process, for the CLI to talk to, and the waits around it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support import access
from tests.support.processes import free_port, python_env

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def wait_serving(
    address: str,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    ca: Path | None = None,
) -> None:
    """Until the server at `address` reports SERVING; its certificate is checked against
    `ca`, the tests' own CA by default."""
    deadline = time.monotonic() + timeout
    with access.health_channel(address, ca) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                break
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    if proc is not None and proc.poll() is not None:
        raise AssertionError(f"the server exited with code {proc.returncode}\n{tail}")
    raise AssertionError(f"nothing SERVING on {address} within {timeout}s\n{tail}")


def stop_process(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM; past the grace period SIGKILL the process group, workers included."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


# --- fixtures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestEndpoint:
    address: str


@pytest.fixture
def ingest(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IngestEndpoint]:
    """The real ingest service as its own process, `python -m ingest_service`."""
    nats = request.getfixturevalue("nats_server")
    address = f"127.0.0.1:{free_port()}"
    log = tmp_path / "ingest.log"
    env = python_env(
        GRPC_LISTEN_ADDR=address,
        DATABASE_URL=f"sqlite:///{tmp_path / 'ingest.db'}",
        NATS_URL=nats.url,
        LOG_FORMAT="console",
    )
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest_service"],
            env=env,
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            # Its own process group, so a forced stop also reaches the workers it spawns.
            start_new_session=True,
        )
    try:
        wait_serving(address, START_TIMEOUT, proc, log)
        yield IngestEndpoint(address)
    finally:
        stop_process(proc)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One service's store, on each database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(ingest, boleto, mailer) databases: each service owns its own."""
    if request.param == "sqlite":
        return (
            f"sqlite:///{tmp_path / 'ingest.db'}",
            f"sqlite:///{tmp_path / 'boleto.db'}",
            f"sqlite:///{tmp_path / 'mailer.db'}",
        )
    return (
        request.getfixturevalue("postgres_url"),
        request.getfixturevalue("second_postgres_url"),
        request.getfixturevalue("third_postgres_url"),
    )
