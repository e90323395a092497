"""Starts NATS and the services in order, watches them, and stops them in reverse order.

Once everything is up, a process that dies (killed, crashed: any exit but a clean one) is
started again, after a pause that doubles each time, at most MAX_RESTARTS times a minute,
and the rest of the stack keeps running; each restart is logged as `stack.restarted` with
the exit code. A process that keeps dying, or refuses its configuration, ends the stack.
A replica that exits cleanly while its siblings keep serving (stopped from outside, as an
orchestrator scaling down would) is left stopped. A NATS node restarted this way rejoins its
cluster with its own store and catches up from the other nodes.

The consumers (boleto and mailer processes) run at a lower CPU priority than ingest and
NATS: on a shared machine the person uploading a file is answered first, and the background
work takes whatever CPU is left, which on an idle machine is all of it.

With a bank in the layout, a simulated one (`boletos bank --follow --send`) starts once the
boleto service serves, answers its remessas with retornos and sends them back; it is watched,
restarted and stopped with the services.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from boletos.platform.nats_permissions import PROBE_USER
from boletos.provision import ensure_secrets
from boletos_cli.stack import postgres
from boletos_cli.stack.children import PREFIX_STYLES, Child
from boletos_cli.stack.health import wait_for_port, wait_jetstream, wait_serving
from boletos_cli.stack.layout import (
    BOLETO,
    GATEWAY,
    GATEWAY_METRICS_PORT_OFFSET,
    LOOPBACK,
    SERVICES,
    Replica,
    StackError,
    StackLayout,
    check_ports_free,
)
from boletos_cli.stack.nats import nats_argv, routine
from boletos_cli.stack.private import make_private
from boletos_cli.stack.restarts import MAX_RESTARTS, RestartBudget

# Services get this long after SIGTERM to finish in-flight calls before SIGKILL.
STOP_GRACE_SECONDS = 10.0
# Added to the niceness of the processes that work through the queues: each stage yields the
# processor to the one before it, so a file's boletos are issued before its e-mails take the
# cores, and an upload is received before either.
NICENESS = {"boleto": 5, "mailer": 10}
# The simulated bank's name among the children.
BANK = "bank"
# The OTLP receiver of --traces.
TRACES = "traces"

# Runs once every child is healthy (the CLI uses it for --sample); the stack keeps serving
# afterwards whatever it returns.
AfterStart = Callable[[], Awaitable[None]]


def wide_enough(console: Console) -> bool:
    return console.width >= 120


class Stack:
    def __init__(
        self,
        layout: StackLayout,
        out: Console,
        err: Console,
        start_timeout: float,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`env` is what every child inherits (default: this process's environment); the
        layout overrides the addresses, stores and log format in it."""
        self.layout = layout
        self.out = out
        self.err = err
        self.start_timeout = start_timeout
        self.env = dict(os.environ if env is None else env)
        self.services = [spec for spec in SERVICES if spec.exists()]
        self.replicas = [r for spec in self.services for r in layout.replicas_of(spec)]
        self.nats: list[Child] = []
        self.children: dict[str, Child] = {}
        self._replica_of: dict[str, Replica] = {r.name: r for r in self.replicas}
        self._stopping = False
        self._serving = False
        self._failure: str | None = None
        self._failed = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._watchers: list[asyncio.Task[None]] = []
        # Only with a boleto service to take its retornos.
        self.bank = layout.bank and BOLETO in self.services
        nodes = [node.name for node in layout.nats_nodes]
        extra = [BANK] if self.bank else []
        width = max(len(name) for name in [*nodes, *(r.name for r in self.replicas), *extra])
        self._prefix_width = width

    async def run(self, after_start: AfterStart | None = None) -> int:
        """Serve until a signal (exit 0) or until something fails (exit 1)."""
        loop = asyncio.get_running_loop()
        self._take_signals()
        body = asyncio.create_task(self._start(after_start))
        stop = asyncio.create_task(self._stop_requested.wait())
        failed = asyncio.create_task(self._failed.wait())
        pending: set[asyncio.Task[object]] = {body, stop, failed}
        code = 0
        try:
            while True:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                error = body.exception() if body in done else None
                if error is not None:
                    if not isinstance(error, StackError):
                        raise error
                    self._report(str(error))
                    code = 1
                    break
                if failed in done:
                    self._report(self._failure or "a child process exited")
                    code = 1
                    break
                if stop in done:
                    break
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self._stop_all()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        self.err.print("stack stopped", style="bold")
        return code

    async def _start(self, after_start: AfterStart | None) -> None:
        check_ports_free(self.layout)
        try:
            for node in self.layout.nats_nodes:
                node.store.mkdir(mode=0o700, parents=True, exist_ok=True)
            # A private CA, a certificate per service and the admin and service API keys,
            # made on the first start and kept.
            ensure_secrets(self.layout.secrets.directory)
            self.layout.cli_env.write_text(self.layout.cli_env_text())
            self.layout.cli_env.chmod(0o600)
            # Last, so it covers what this start and any earlier version made.
            make_private(self.layout.data_dir)
        except OSError as exc:
            raise StackError(f"cannot create {exc.filename}: {exc.strerror}") from exc
        await self._prepare_postgres()

        for node in self.layout.nats_nodes:
            self.nats.append(
                await self._launch(node.name, nats_argv(self.layout, node), self.env, quiet=routine)
            )
        await asyncio.gather(
            *(
                wait_for_port(child, LOOPBACK, node.client_port, self.start_timeout)
                for child, node in zip(self.nats, self.layout.nats_nodes, strict=True)
            )
        )
        # A cluster takes a moment to elect the leader that creates streams; services started
        # before it would fail their first stream declaration.
        probe = self.layout.secrets.nats_login(PROBE_USER)
        await asyncio.gather(
            *(
                wait_jetstream(child, node.url, self.start_timeout, probe)
                for child, node in zip(self.nats, self.layout.nats_nodes, strict=True)
            )
        )

        # Before the mailer, so it finds somewhere to deliver.
        catcher = await self._launch(
            "smtp",
            [sys.executable, "-m", "boletos_cli.stack.smtp_catcher", "--port",
             str(self.layout.smtp_catcher_port), "--maildir", str(self.layout.maildir),
             "--web-port", str(self.layout.mail_viewer_port)],
            self.env,
        )  # fmt: skip
        await wait_for_port(catcher, LOOPBACK, self.layout.smtp_catcher_port, self.start_timeout)
        if self.layout.traces:
            # Before the services, so their first spans have somewhere to go.
            traces = await self._launch(
                TRACES,
                [sys.executable, "-m", "boletos_cli.stack.trace_catcher", "--port",
                 str(self.layout.trace_catcher_port), "--out", str(self.layout.traces_file)],
                self.env,
            )  # fmt: skip
            await wait_for_port(
                traces, LOOPBACK, self.layout.trace_catcher_port, self.start_timeout
            )
        for replica in self.replicas:
            env = self.layout.service_env(replica, self.env)
            await self._launch(
                replica.name,
                [sys.executable, "-m", replica.spec.module],
                env,
                niceness=NICENESS.get(replica.spec.name, 0),
            )
        await asyncio.gather(
            *(
                wait_serving(
                    self.children[replica.name],
                    self.layout.replica_address(replica),
                    self.start_timeout,
                    self.layout.secrets.ca,
                )
                for replica in self.replicas
            )
        )
        for replica in self.replicas:
            self.children[replica.name].step_back()
        gateway = await self._launch(
            GATEWAY, [sys.executable, "-m", "gateway_service"], self.layout.gateway_env(self.env)
        )
        await wait_for_port(gateway, LOOPBACK, self.layout.gateway_port, self.start_timeout)
        if self.bank:
            # After the boleto service serves: the bank sends it what it answers at once.
            await self._launch(
                BANK, self.layout.bank_argv(sys.executable), self.layout.bank_env(self.env)
            )
        self.out.print(self._endpoints_table())
        missing = [spec.name for spec in SERVICES if spec not in self.services]
        if missing:
            self.out.print(f"not built yet, so not started: {', '.join(missing)}", style="dim")
        if not wide_enough(self.out):
            self.out.print(
                f"metrics: http://{LOOPBACK}:PORT/metrics, PORT = each service's port + 5",
                style="dim",
            )
        self.out.print(f"point the CLI at it: source {self.layout.cli_env}", markup=False)
        self._serving = True
        self.out.print("serving; Ctrl-C stops the stack", style="bold")
        if after_start is not None:
            await after_start()
            # Following the sample's upload takes Ctrl-C for itself and, done, hands it back
            # to the default (KeyboardInterrupt), which would end the stack without stopping
            # its children.
            self._take_signals()

    def _take_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_signal)

    async def _prepare_postgres(self) -> None:
        """With --postgres, each service's database and role, before anything uses them."""
        names = self.layout.postgres_databases()
        if not names:
            return
        admin = postgres.admin_url(str(self.layout.postgres))
        secrets_dir = self.layout.secrets.directory
        roles = {name: postgres.password(secrets_dir, svc) for svc, name in names.items()}
        await asyncio.to_thread(postgres.ensure_databases, admin, roles)

    async def _launch(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        quiet: Callable[[str], bool] | None = None,
        niceness: int = 0,
    ) -> Child:
        style = PREFIX_STYLES[len(self.children) % len(PREFIX_STYLES)]
        child = Child(name, argv, env, self.err, style, self._prefix_width, quiet, niceness)
        # Known before it exists, so a stop arriving mid-launch still reaches it.
        self.children[name] = child
        try:
            await child.start()
        except OSError as exc:
            raise StackError(f"cannot start {name} ({argv[0]}): {exc.strerror}") from exc
        self._watchers.append(asyncio.create_task(self._watch(child)))
        return child

    async def _watch(self, child: Child) -> None:
        budget = RestartBudget()
        while True:
            code = await child.wait()
            if self._stopping or self._failed.is_set():
                return
            siblings = self._siblings_running(child.name)
            if code == 0 and siblings:
                child.say(f"exited with code 0; {len(siblings)} other replica(s) still serving")
                return
            delay = budget.delay(code, time.monotonic()) if self._serving else None
            if delay is None:
                why = " while the stack was starting" if not self._serving else ""
                if budget.used >= MAX_RESTARTS:
                    why = f" after {budget.used} restarts within a minute"
                self._failure = f"{child.name} exited unexpectedly with code {code}{why}"
                self._failed.set()
                return
            child.say(f"stack.restarted exit_code={code} restart={budget.used} in={delay:g}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), delay)
            if self._stopping or self._failed.is_set() or self._stop_requested.is_set():
                return
            try:
                await child.start()
            except OSError as exc:
                self._failure = f"cannot start {child.name} again: {exc.strerror}"
                self._failed.set()
                return

    def _siblings_running(self, name: str) -> list[str]:
        replica = self._replica_of.get(name)
        if replica is None:
            return []
        launched = [
            other.name
            for other in self.replicas
            if other.spec == replica.spec and other.name != name and other.name in self.children
        ]
        return [other for other in launched if self.children[other].returncode is None]

    def request_stop(self) -> None:
        """Stop the stack as a first Ctrl-C would; for callers running it in-process."""
        self._stop_requested.set()

    def _on_signal(self) -> None:
        if not self._stop_requested.is_set():
            self.err.print("stopping the stack…", style="bold")
            self._stop_requested.set()
            return
        # A second Ctrl-C means the user will not wait for graceful shutdowns.
        self.err.print("stopping now", style="bold")
        for child in self.children.values():
            child.kill()

    async def _stop_all(self) -> None:
        self._stopping = True
        # Services first, together, so their last events still reach NATS and their last
        # e-mails the catcher; then every NATS node at once (one by one, the cluster would
        # elect a new leader after each), then the catcher.
        smtp = self.children.get("smtp")
        traces = self.children.get(TRACES)
        infrastructure = [*self.nats, *([smtp] if smtp else []), *([traces] if traces else [])]
        services = [c for c in self.children.values() if c not in infrastructure]
        await asyncio.gather(*(c.stop(STOP_GRACE_SECONDS) for c in services))
        await asyncio.gather(*(c.stop(STOP_GRACE_SECONDS) for c in self.nats))
        if smtp is not None:
            await smtp.stop(STOP_GRACE_SECONDS)
        # Last: the services' final spans were exported as they stopped.
        if traces is not None:
            await traces.stop(STOP_GRACE_SECONDS)
        await asyncio.gather(*self._watchers, return_exceptions=True)

    def _report(self, message: str) -> None:
        self.err.print(f"stack: {message}", style="bold red", markup=False, highlight=False)

    def _endpoints_table(self) -> Table:
        """Every process, where it listens and keeps its data; metrics join in when the
        terminal is wide enough, and are otherwise on each gRPC port + 5."""
        wide = wide_enough(self.out)
        table = Table(title="Local stack", title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("component", style="bold", no_wrap=True)
        table.add_column("address", no_wrap=True)
        if wide:
            table.add_column("metrics", no_wrap=True)
        table.add_column("data", overflow="fold")
        table.add_column("pid", justify="right", no_wrap=True)

        def row(name: str, address: str, metrics: str, data: Path | str, pid: int | None) -> None:
            table.add_row(name, address, *([metrics] if wide else []), str(data), str(pid))

        for replica in self.replicas:
            row(
                replica.name,
                self.layout.replica_address(replica),
                f"http://{self.layout.metrics_address(replica)}/metrics",
                self.layout.database_label(replica.spec),
                self.children[replica.name].pid,
            )
        row(
            GATEWAY,
            self.layout.gateway_url + "/docs",
            f"http://{LOOPBACK}:{self.layout.base_port + GATEWAY_METRICS_PORT_OFFSET}/metrics",
            "REST API and its docs (stateless)",
            self.children[GATEWAY].pid,
        )
        for node, child in zip(self.layout.nats_nodes, self.nats, strict=True):
            routes = f", routes :{node.route_port}" if self.layout.nats_cluster > 1 else ""
            row(node.name, node.url + routes, "", node.store, child.pid)
        smtp = f"smtp://{LOOPBACK}:{self.layout.smtp_catcher_port}"
        row("smtp", smtp, "", self.layout.maildir / "new", self.children["smtp"].pid)
        row(
            "mail",
            self.layout.mail_viewer_url,
            "",
            "the e-mails in a browser",
            self.children["smtp"].pid,
        )
        if self.layout.traces:
            row(
                TRACES,
                f"grpc://{LOOPBACK}:{self.layout.trace_catcher_port}",
                "",
                self.layout.traces_file,
                self.children[TRACES].pid,
            )
        if self.bank:
            # No address: it reads the remessas' directory and writes the retornos' one.
            row(BANK, "(files)", "", self.layout.retorno_dir, self.children[BANK].pid)
        return table
