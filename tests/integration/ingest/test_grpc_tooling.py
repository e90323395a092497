"""The service as operators meet it: a process started with `python -m ingest_service`,
inspected with the real grpcurl, stopped with SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

from tests.support import access
from tests.support.processes import free_port, python_env, wait_for_port


def _grpcurl() -> str:
    return str(Path(sys.executable).parent / "grpcurl")


def grpcurl(
    *argv: str, key: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """grpcurl as an operator runs it: the CA, and `key` as the credential (admin by default;
    "" for none)."""
    credential = access.admin_key() if key is None else key
    auth = ["-H", f"authorization: Bearer {credential}"] if credential else []
    return subprocess.run(
        [_grpcurl(), "-cacert", str(access.secrets().ca), *auth, *argv],
        capture_output=True,
        text=True,
        timeout=30,
        check=check,
    )


@pytest.fixture
def ingest_process(tmp_path, nats_server):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest_service"],
        env=python_env(
            GRPC_LISTEN_ADDR=f"127.0.0.1:{port}",
            DATABASE_URL=f"sqlite:///{tmp_path / 'ingest.db'}",
            NATS_URL=nats_server.url,
            GRPC_REFLECTION="true",
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, timeout=30)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_grpcurl_lists_services_and_checks_health(ingest_process):
    _, port = ingest_process
    listed = grpcurl(f"127.0.0.1:{port}", "list").stdout.split()
    assert "boletos.v1.IngestService" in listed
    assert "grpc.health.v1.Health" in listed

    described = grpcurl(f"127.0.0.1:{port}", "describe", "boletos.v1.IngestService").stdout
    assert "rpc Upload ( stream .boletos.v1.UploadRequest )" in described

    checked = grpcurl(
        "-d",
        '{"service": "boletos.v1.IngestService"}',
        f"127.0.0.1:{port}",
        "grpc.health.v1.Health/Check",
    ).stdout
    assert json.loads(checked) == {"status": "SERVING"}

    called = grpcurl(f"127.0.0.1:{port}", "boletos.v1.IngestService/ListUploads").stdout
    assert json.loads(called) == {}


def test_without_a_credential_or_in_plain_text_grpcurl_gets_nothing(ingest_process):
    _, port = ingest_process
    anonymous = grpcurl(f"127.0.0.1:{port}", "list", key="", check=False)
    assert anonymous.returncode != 0 and "Unauthenticated" in anonymous.stderr
    listing = grpcurl(
        f"127.0.0.1:{port}", "boletos.v1.IngestService/ListUploads", key="", check=False
    )
    assert listing.returncode != 0 and "Unauthenticated" in listing.stderr
    plain = subprocess.run(
        [_grpcurl(), "-plaintext", f"127.0.0.1:{port}", "grpc.health.v1.Health/Check"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert plain.returncode != 0


def test_sigterm_stops_the_service_cleanly_and_logs_json(ingest_process):
    proc, port = ingest_process
    # Health checking is the one call open without a credential: probes need it.
    with access.health_channel(f"127.0.0.1:{port}") as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=10
        )
        assert status.status == health_pb2.HealthCheckResponse.SERVING
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert time.monotonic() - started < 15
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert events[0] == "service.config"
    assert "service.started" in events and events[-1] == "service.stopped"
    # Closing the NATS connection on purpose is not a lost connection.
    assert "nats.disconnected" not in events


def test_reflection_answers_as_v1_and_as_v1alpha(ingest_process):
    _, port = ingest_process
    with access.sync_channel(f"127.0.0.1:{port}") as channel:
        for version in ("v1", "v1alpha"):
            call = channel.stream_stream(
                f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            listed, described = call(
                iter(
                    [
                        reflection_pb2.ServerReflectionRequest(list_services=""),
                        reflection_pb2.ServerReflectionRequest(
                            file_containing_symbol="grpc.reflection.v1.ServerReflection"
                        ),
                    ]
                ),
                timeout=10,
            )
            names = {s.name for s in listed.list_services_response.service}
            assert {"boletos.v1.IngestService", "grpc.reflection.v1.ServerReflection"} <= names
            assert described.file_descriptor_response.file_descriptor_proto, version


def test_grpcurl_checks_health_on_the_probe_port_without_a_proto_or_credential(
    tmp_path, nats_server
):
    port, probe = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest_service"],
        env=python_env(
            GRPC_LISTEN_ADDR=f"127.0.0.1:{port}",
            GRPC_HEALTH_LISTEN_ADDR=f"127.0.0.1:{probe}",
            DATABASE_URL=f"sqlite:///{tmp_path / 'ingest.db'}",
            NATS_URL=nats_server.url,
        ),
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(probe, timeout=30)
        run = [_grpcurl(), "-plaintext", f"127.0.0.1:{probe}"]

        def check() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*run, "grpc.health.v1.Health/Check"], capture_output=True, text=True, timeout=30
            )

        deadline = time.monotonic() + 30
        answer = check()
        while '"SERVING"' not in answer.stdout and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = check()
        assert json.loads(answer.stdout) == {"status": "SERVING"}, answer.stderr
        # Reflection there knows health and nothing else.
        listed = subprocess.run([*run, "list"], capture_output=True, text=True, timeout=30)
        assert listed.stdout.split() == ["grpc.health.v1.Health"]
    finally:
        proc.kill()
        proc.wait(10)
