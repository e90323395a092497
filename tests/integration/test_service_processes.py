"""Each service as `python -m <service>` meets a bad setting and an unreachable broker."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.support.processes import free_port, python_env

SERVICES = ("ingest_service", "boleto_service", "mailer_service")


@pytest.mark.parametrize(
    ("service", "variable", "value", "says"),
    [
        ("boleto_service", "BENEFICIARY_BANK_CODE", "999", "bank code '999' has no boleto layout"),
        ("mailer_service", "SMTP_SECURITY", "bogus", "must be one of none, starttls, tls"),
        ("ingest_service", "INGEST_BLOCK_BYTES", "lots", "must be an integer"),
        ("ingest_service", "LOG_LEVEL", "loud", "must be one of DEBUG, INFO"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    service: str, variable: str, value: str, says: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", service],
        env=python_env(**{variable: value}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{service}: configuration error: {variable}")
    assert says in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_sigterm_while_nats_is_unreachable_stops_the_service_at_once(
    service: str, tmp_path
) -> None:
    nowhere = free_port()  # nothing listens here
    proc = subprocess.Popen(
        [sys.executable, "-m", service],
        env=python_env(
            GRPC_LISTEN_ADDR=f"127.0.0.1:{free_port()}",
            DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
            NATS_URL=f"nats://127.0.0.1:{nowhere}",
            LOG_FORMAT="console",
        ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        # It keeps trying, and says so, until told to stop.
        for line in proc.stderr:
            if "nats.error" in line:
                break
        else:
            raise AssertionError(f"{service} exited with {proc.wait()} before trying NATS")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest = proc.stderr.read()
        code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, rest
    assert time.monotonic() - started < 10
    assert "service.stopped reason=stopped while starting" in rest
    assert "Traceback" not in rest
