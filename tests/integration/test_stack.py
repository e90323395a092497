"""``boletos stack`` as a user runs it: a foreground process owning NATS and the services."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import grpc
import pytest

from boletos.provision import Secrets, ensure_secrets
from boletos_cli.stack.children import Child
from boletos_cli.stack.health import wait_serving
from boletos_cli.stack.layout import MAIL_VIEWER_PORT_OFFSET, SERVICES, StackError
from boletos_testing.stack_ports import free_base_port
from tests.integration.conftest import REPO_ROOT
from tests.integration.conftest import wait_serving as serving
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.processes import free_port, python_env

READY_LINE = "serving; Ctrl-C stops the stack"
# Run by the stack's first process: a new session (start_new_session) whose controlling
# terminal is its stdin, then the stack itself in the same process.
_ON_ITS_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)
# The stack gives each service 10 s after SIGTERM before killing it, then stops NATS.
STOP_TIMEOUT = 45.0
START_TIMEOUT = 60.0


class StackProcess:
    def __init__(self, data_dir: Path, base_port: int, *extra: str) -> None:
        self.base_port = base_port
        self.data_dir = data_dir
        self.seen_children: set[int] = set()
        self.stdout = data_dir.parent / "stack.out"
        self.stderr = data_dir.parent / "stack.err"
        # A terminal of its own, as `make run` has, so that Ctrl-C typed on it reaches the
        # stack the way a person's does: SIGINT to the terminal's foreground process group.
        self.terminal, tty = pty.openpty()
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _ON_ITS_TERMINAL, sys.executable, "-m", "boletos_cli",
                 "stack", "--data-dir", str(data_dir), "--base-port", str(base_port), *extra],
                cwd=REPO_ROOT, env=python_env(), stdin=tty, stdout=out, stderr=err,
                start_new_session=True,
            )  # fmt: skip
        os.close(tty)

    def type_ctrl_c(self) -> None:
        """^C on the stack's terminal: its line discipline signals the foreground group."""
        os.write(self.terminal, b"\x03")

    @property
    def ingest_address(self) -> str:
        return f"127.0.0.1:{self.base_port}"

    @property
    def secrets(self) -> Secrets:
        return Secrets(self.data_dir.resolve() / "secrets")

    def cli_env(self) -> dict[str, str]:
        """What `source DATA_DIR/cli.env` exports."""
        exported = {}
        for line in (self.data_dir / "cli.env").read_text().splitlines():
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").partition("=")
                exported[name] = shlex.split(value)[0] if value else ""
        return exported

    def sync_channel(self, address: str | None = None) -> grpc.Channel:
        """A channel as the stack's admin, trusting the stack's CA."""
        credentials = grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(self.secrets.ca.read_bytes()),
            grpc.access_token_call_credentials(self.secrets.admin_key.read_text().strip()),
        )
        return grpc.secure_channel(address or self.ingest_address, credentials)

    def output(self) -> str:
        return self.stdout.read_text(errors="replace")

    def logs(self) -> str:
        return f"--- stdout\n{self.output()}\n--- stderr\n{self.stderr.read_text(errors='replace')}"

    def wait_for_output(self, text: str, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.logs():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"stack never printed {text!r}\n{self.logs()}")

    def children(self) -> list[int]:
        found = [pid for pid in _all_pids() if _parent_of(pid) == self.proc.pid]
        self.seen_children.update(found)
        return found

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            if sig == signal.SIGINT:
                self.type_ctrl_c()
            else:
                self.proc.send_signal(sig)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(
                f"stack did not stop within {STOP_TIMEOUT}s\n{self.logs()}"
            ) from None


class StackFactory(Protocol):
    """The `stack_factory` fixture: starts `boletos stack` with extra arguments, on the given
    base port or on a free one."""

    def __call__(self, *extra: str, base_port: int | None = None) -> StackProcess: ...


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat(pid: int) -> list[str]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    # The command name may contain spaces; the fields after its closing parenthesis do not:
    # state, ppid, pgrp, ...
    return stat.rsplit(")", 1)[1].split()


def _parent_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _left_behind(groups: list[int], timeout: float = 5.0) -> list[int]:
    """Processes still running in the given process groups (each child leads its own).

    Killed orphans linger as zombies until init reaps them; those do not count.
    """
    deadline = time.monotonic() + timeout
    while True:
        running = []
        for pid in _all_pids():
            fields = _stat(pid)
            if fields and int(fields[2]) in groups and fields[0] not in ("Z", "X"):
                running.append(pid)
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def cli(stack: StackProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    """`boletos` as a user runs it against the stack, after `source DATA_DIR/cli.env`."""
    return subprocess.run(
        [sys.executable, "-m", "boletos_cli", *argv],
        cwd=REPO_ROOT, env=python_env(**stack.cli_env()), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[StackFactory]:
    started: list[StackProcess] = []

    class Started(StackProcess):
        def __init__(self, *extra: str, base_port: int | None = None) -> None:
            super().__init__(tmp_path / "stack", base_port or free_base_port(), *extra)
            started.append(self)

    yield Started
    # A failed test must not leave services running: kill whatever its stacks started.
    # Each child leads its own process group, which also holds the workers it spawned.
    groups: set[int] = set()
    for stack in started:
        if stack.proc.poll() is None:
            stack.children()
            stack.proc.kill()
            stack.proc.wait(5)
        groups |= stack.seen_children
        os.close(stack.terminal)
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_stack_serves_and_stops_cleanly_on_sigterm(stack_factory: StackFactory) -> None:
    stack = stack_factory("--sample")
    stack.wait_for_output(READY_LINE)
    children = stack.children()
    services = [spec for spec in SERVICES if spec.exists()]
    # NATS, the SMTP catcher, every service, the gateway and, with the sample, the bank
    assert len(children) == 4 + len(services), stack.logs()

    serving(stack.ingest_address, 10, ca=stack.secrets.ca)
    # What `source .stack/cli.env` gives grpcurl is enough to list and call a service.
    exported = stack.cli_env()
    assert exported["BOLETOS_INGEST_ADDR"] == stack.ingest_address
    grpcurl = [
        str(Path(sys.executable).parent / "grpcurl"),
        "-cacert", exported["BOLETOS_CA_FILE"],
        "-H", f"authorization: Bearer {exported['BOLETOS_API_KEY']}",
    ]  # fmt: skip
    for address in ("BOLETOS_INGEST_ADDR", "BOLETOS_BOLETO_ADDR", "BOLETOS_MAILER_ADDR"):
        listed_services = subprocess.run(
            [*grpcurl, exported[address], "list"], capture_output=True, text=True, timeout=30
        )
        assert listed_services.returncode == 0, listed_services.stderr
        assert "grpc.health.v1.Health" in listed_services.stdout
    # The sample goes in once everything is healthy, through the same upload code.
    stack.wait_for_output("rejected")
    listed = cli(stack, "uploads", "--json")
    assert listed.returncode == 0, listed.stderr
    uploads = json.loads(listed.stdout)["uploads"]
    assert [u["file_name"] for u in uploads] == ["sample.csv"]
    upload_id = uploads[0]["upload_id"]
    status = cli(stack, "status", upload_id)
    assert status.returncode == 0, status.stderr
    assert "COMPLETED" in status.stdout
    assert "ingest |" in stack.stderr.read_text()
    # The gateway serves the same upload over HTTPS with what cli.env gives curl.
    over_http = subprocess.run(
        ["curl", "--silent", "--fail-with-body", "--cacert", exported["BOLETOS_CA_FILE"],
         "-H", f"Authorization: Bearer {exported['BOLETOS_API_KEY']}",
         f"{exported['BOLETOS_GATEWAY_URL']}/v1/uploads/{upload_id}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert over_http.returncode == 0, over_http.stdout + over_http.stderr
    assert json.loads(over_http.stdout)["summary"]["fileName"] == "sample.csv"

    # Downstream of ingest, every accepted debt of the sample gets its boleto and its e-mail,
    # which the catcher keeps as one file each.
    deadline = time.monotonic() + 90
    while True:
        progress = json.loads(cli(stack, "status", upload_id, "--json").stdout)
        progress = progress.get("progress", progress)
        if progress["settled"]:
            break
        assert time.monotonic() < deadline, (progress, stack.logs())
        time.sleep(0.5)
    assert progress["boletos_issued"] == progress["emails_sent"] == progress["accepted"] == 37
    maildir = stack.stdout.parent / "stack" / "mail" / "new"
    assert len(_boleto_emails(maildir)) == 37
    # ... and shows in a browser on the stack's mail port.
    viewer = f"http://127.0.0.1:{stack.base_port + MAIL_VIEWER_PORT_OFFSET}/"
    # The bank's answers may bring receipts and notices meanwhile: the page lists what the
    # Maildir held at some moment between the two counts.
    before = len(list(maildir.iterdir()))
    with urllib.request.urlopen(viewer, timeout=10) as page:
        shown = re.search(r"E-mails \((\d+)\)", page.read().decode())
    after = len(list(maildir.iterdir()))
    assert shown is not None and before <= int(shown.group(1)) <= after, (before, after)

    # `upload --wait` follows a new file through the whole pipeline until it settles.
    fresh = stack.stdout.parent / "fresh.csv"
    fresh.write_bytes(csv_bytes(valid_rows(5, seed=77)))
    waited = cli(stack, "upload", "--wait", "--json", str(fresh))
    assert waited.returncode == 0, waited.stderr
    followed = json.loads(waited.stdout)["progress"]
    assert followed["settled"] and followed["emails_sent"] == followed["accepted"] == 5
    assert len(_boleto_emails(maildir)) == 42

    assert stack.stop() == 0, stack.logs()
    assert "stack stopped" in stack.stderr.read_text()
    assert [pid for pid in children if _alive(pid)] == []
    assert _left_behind(children) == [], stack.logs()
    assert (stack.stdout.parent / "stack" / "nats").is_dir()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_killed_is_started_again_and_the_stack_keeps_working(
    stack_factory: StackFactory, tmp_path: Path
) -> None:
    stack = stack_factory()
    stack.wait_for_output(READY_LINE)
    nats = next(pid for pid in stack.children() if "nats-server" in _cmdline(pid))

    os.kill(nats, signal.SIGKILL)

    stack.wait_for_output("stack.restarted exit_code=-9")
    assert stack.proc.poll() is None, stack.logs()
    # The services reconnect to the NATS started in its place: a file still goes end to end.
    fresh = tmp_path / "after.csv"
    fresh.write_bytes(csv_bytes(valid_rows(4, seed=5)))
    waited = cli(stack, "upload", "--wait", "--json", str(fresh))
    assert waited.returncode == 0, (waited.stderr, stack.logs())
    followed = json.loads(waited.stdout)["progress"]
    assert followed["settled"] and followed["emails_sent"] == followed["accepted"] == 4
    assert _alive(nats) is False
    assert any("nats-server" in _cmdline(pid) for pid in stack.children())
    assert stack.stop() == 0, stack.logs()


def test_busy_ports_are_named_before_anything_starts(stack_factory: StackFactory) -> None:
    base = free_base_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 3))
        squatter.listen()
        stack = stack_factory(base_port=base)
        try:
            code = stack.proc.wait(START_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(stack.logs()) from None

    assert code != 0
    said = stack.stderr.read_text()
    assert f"{stack.base_port + 3} (nats)" in said
    # The way out it names is one `make run` takes.
    assert "make run BASE_PORT=P" in said


async def test_a_service_that_never_gets_healthy_is_named_with_its_log_tail(
    tmp_path: Path,
) -> None:
    from rich.console import Console

    ca = ensure_secrets(tmp_path / "secrets").ca
    script = "print('loading the frobnicator', flush=True); import time; time.sleep(30)"
    child = Child("ingest", [sys.executable, "-c", script], python_env(), Console(), "cyan", 6)
    await child.start()
    try:
        with pytest.raises(StackError) as failure:
            await wait_serving(child, f"127.0.0.1:{free_port()}", 1.5, ca)
    finally:
        await child.stop(5)

    message = str(failure.value)
    assert "ingest did not report SERVING" in message
    assert "loading the frobnicator" in message


def _boleto_emails(maildir: Path) -> list[Path]:
    """The boleto e-mails caught; the receipts the stack's bank brings about carry a kind."""
    return [p for p in maildir.iterdir() if b"X-Boleto-Mail-Kind:" not in p.read_bytes()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
