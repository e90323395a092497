"""``boletos stack --nats-cluster 3``: a file goes through three NATS nodes, one of which, the
one leading the INGEST stream, is killed -9 while the file is still arriving. Another node
takes over within seconds, the stack starts the dead one again on its own store, it catches
up, and the run ends with exact counts: one boleto, one delivery and one e-mail per debt,
no e-mail twice (no mailer died, so nothing was on the wire twice).

Prints one `fault-matrix` line with what it measured, like test_faults.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nats
import pytest

from boletos.platform.nats_permissions import PROBE_USER
from boletos_testing.datagen import write_csv
from boletos_testing.stack_ports import free_base_port
from mailer_service.domain.delivery import DeliveryStatus
from tests.integration.stack.evidence import debt_ids, mail_headers
from tests.integration.stack.test_draining import wait_until
from tests.integration.stack.test_faults import ENV, SETTLE_WITHIN, Run, _everything_settled
from tests.integration.stack.test_faults import _scalar as scalar
from tests.integration.stack.test_faults import _send as send
from tests.integration.test_stack import READY_LINE, StackFactory, StackProcess, _cmdline

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

NODES = 3
ROWS = 300
SERVICES = ("ingest", "boleto", "mailer")
STREAMS = ("INGEST", "BOLETO", "MAILER", "KV_BOLETOS_KEYS")
# Leader elections take a few seconds; a node back from a kill catches up in about as long.
FAILOVER_WITHIN = 20.0


def client_url(base: int, node: int, login: Mapping[str, str]) -> str:
    """A node's URL, logged in as `login`'s user (the stack's probe user)."""
    return f"nats://{login['user']}:{login['password']}@127.0.0.1:{base + 3 + 10 * (node - 1)}"


def stream_info(url: str, stream: str) -> dict[str, Any]:
    """$JS.API.STREAM.INFO as the server answers it: config, state and cluster."""

    async def ask() -> dict[str, Any]:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
        try:
            reply = await nc.request(f"$JS.API.STREAM.INFO.{stream}", b"", timeout=3)
        finally:
            await nc.close()
        info: dict[str, Any] = json.loads(reply.data)
        return info

    return asyncio.run(ask())


def leader_and_replicas(urls: list[str], stream: str) -> tuple[str | None, dict[str, bool]]:
    """The stream's leader and whether each other replica is current, as the first node that
    answers sees them; (None, {}) while none can say."""
    for url in urls:
        try:
            cluster = stream_info(url, stream).get("cluster", {})
        except Exception:  # noqa: BLE001 - a node down, or the stream electing: ask the next
            continue
        if cluster.get("leader"):
            replicas = {r["name"]: bool(r.get("current")) for r in cluster.get("replicas", [])}
            return cluster["leader"], replicas
    return None, {}


def all_current(urls: list[str]) -> bool:
    """Every stream led, with its two other replicas current: the cluster is whole again."""
    for stream in STREAMS:
        leader, replicas = leader_and_replicas(urls, stream)
        if leader is None or len(replicas) != NODES - 1 or not all(replicas.values()):
            return False
    return True


def published(url: str) -> int:
    """Events on the INGEST stream so far."""
    return int(stream_info(url, "INGEST")["state"]["messages"])


def nats_node_pid(stack: StackProcess, name: str) -> int:
    return next(
        pid
        for pid in stack.children()
        if "nats-server" in _cmdline(pid) and f"--server_name {name} " in _cmdline(pid)
    )


def niceness(pid: int) -> int:
    # Fields after the command name, from the state (field 3 of stat); nice is field 19.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def autogroup_nice(pid: int) -> int:
    # "/autogroup-123 nice 10"
    return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])


def test_killing_the_stream_leader_loses_and_repeats_nothing(
    stack_factory: StackFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    base = free_base_port(nats_cluster=NODES)
    stack = stack_factory("--nats-cluster", str(NODES), base_port=base)
    stack.wait_for_output(READY_LINE)
    data_dir = tmp_path / "stack"
    probe = stack.secrets.nats_login(PROBE_USER)
    urls = [client_url(base, n, probe) for n in range(1, NODES + 1)]
    databases = {name: f"sqlite:///{data_dir / name}.db" for name in SERVICES}
    run = Run(stack, base, data_dir, databases)

    # Every stream, and the key bucket, is kept on all three nodes.
    for stream in STREAMS:
        assert stream_info(urls[0], stream)["config"]["num_replicas"] == NODES, stream
    # Each stage gives the CPU to the ones before it: ingest and NATS, boleto, then mailer.
    pids = {name: run.pid_of(name) for name in SERVICES}
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert niceness(pids["ingest"]) == niceness(nats_node_pid(stack, "nats-1")) == mine
    assert niceness(pids["boleto"]) == min(mine + 5, 19)
    assert niceness(pids["mailer"]) == min(mine + 10, 19)
    if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1":
        # Each child is its own session's autogroup: the group's nice is what counts.
        assert autogroup_nice(pids["boleto"]) == min(mine + 5, 19)
        assert autogroup_nice(pids["mailer"]) == min(mine + 10, 19)
        assert autogroup_nice(pids["ingest"]) == 0

    maildir = data_dir / "mail" / "new"
    csv_path = write_csv(tmp_path / "debts.csv", ROWS, seed=4242)
    expected = debt_ids(csv_path)
    # The client holds the file's last chunk until the leader is killed: the fault lands
    # mid-file however slow the machine.
    killed = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        sending: Future[str] = pool.submit(send, stack, csv_path, paced=True, hold_last=killed)
        # Mid-run: the first blocks' events are out and the file is still arriving.
        wait_until(lambda: published(urls[0]) >= 2, 60, "the first DebtsImported events", stack)
        assert not sending.done(), "the file was through before the fault"
        victim, _ = leader_and_replicas(urls, "INGEST")
        assert victim is not None
        victim_pid = nats_node_pid(stack, victim)
        hit_at = time.monotonic()
        try:
            os.kill(victim_pid, signal.SIGKILL)
        finally:
            killed.set()

        # INGEST is led again: by another node, or, when the stack restarted the victim before
        # the election ended (a loaded machine), by the victim. That the other two kept full
        # copies is what all_current() checks at the end: with one replica it never holds.
        leaders: set[str] = set()

        def victim_back() -> bool:
            try:
                return nats_node_pid(stack, victim) != victim_pid
            except StopIteration:
                return False

        def led_again() -> bool:
            # Right after the kill the others may still name the dead node as leader.
            leader, _ = leader_and_replicas(urls, "INGEST")
            if leader is None or (leader == victim and not victim_back()):
                return False
            leaders.add(leader)
            return True

        wait_until(led_again, FAILOVER_WITHIN, "INGEST led again", stack)
        failover_s = time.monotonic() - hit_at
        run.uploads.append(sending.result(timeout=120))

    run.wait_restarted(victim)
    restarted = nats_node_pid(stack, victim)
    assert restarted != victim_pid
    wait_until(lambda: _everything_settled(run, len(expected)), SETTLE_WITHIN, "settled", stack)
    healed_in = time.monotonic() - hit_at
    # The node back on its own store is a current replica of every stream again.
    wait_until(lambda: all_current(urls), FAILOVER_WITHIN, "every replica current", stack)
    assert (data_dir / victim / "jetstream").is_dir()

    boleto, mailer = databases["boleto"], databases["mailer"]
    assert scalar(boleto, "SELECT count(DISTINCT debt_id) FROM boletos") == len(expected)
    assert scalar(boleto, "SELECT count(*) FROM boletos") == len(expected)
    assert scalar(boleto, "SELECT count(*) FROM boleto_failures") == 0
    sent = f"SELECT count(*) FROM deliveries WHERE status = {DeliveryStatus.SENT}"
    assert scalar(mailer, sent) == scalar(mailer, "SELECT count(*) FROM deliveries")
    assert scalar(mailer, sent) == len(expected)

    # Leave the stack a moment to show a late second copy, then read the Maildir.
    time.sleep(1)
    messages = mail_headers(maildir)
    copies = Counter(m["X-Boleto-Debt-Id"] for m in messages)
    message_ids = {m["Message-ID"] for m in messages}
    assert set(copies) == expected
    assert len(messages) == len(message_ids) == len(expected), copies.most_common(3)

    # Losing a NATS node cost no service a restart: each rode it out on the other nodes.
    log = stack.stderr.read_text(errors="replace")
    for name in SERVICES:
        assert f"{name} | stack.restarted" not in log, stack.logs()
        assert run.pid_of(name) == pids[name]
    assert "never retrieved" not in stack.logs()
    print(
        f"\nfault-matrix scenario='kill -9 INGEST leader of 3 NATS nodes' store=sqlite"
        f" debts={len(expected)} e-mails={len(messages)} repeated=0 uploads={len(run.uploads)}"
        f" failover={failover_s:.1f}s moved={victim not in leaders} healed_in={healed_in:.1f}s"
    )
    assert stack.stop() == 0, stack.logs()
