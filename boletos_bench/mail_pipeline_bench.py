"""E-mails per second into the local SMTP catcher: the mailer service fetching each PDF from
the boleto service, composing, and sending over SMTP, with the catcher running on the same
machine (its CPU included, as in `boletos stack`).

Boletos are issued first, off the clock; the clock runs from the mailer's start to the last
message in the catcher's Maildir.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from boletos_bench.boleto_bench import _publish_file, count_issued
from boletos_bench.procs import cpu_seconds
from boletos_bench.secured import bench_access
from boletos_testing.ports import free_port, wait_for_port
from boletos_testing.processes import NatsServer, ServiceProcess

# Messages in flight: each waits on a PDF from the boleto service and on SMTP round trips,
# so more connections than cores keep every process busy. The service default is 8, a
# safe number for a provider's relay; the local catcher takes more.
SMTP_CONNECTIONS = 24


@dataclass
class MailRun:
    emails: int
    delivered: int
    wall_s: float
    # CPU milliseconds per e-mail of each process while mailing (from the first e-mail in
    # the Maildir): unlike the rate, they hardly move when something else shares the machine.
    cpu_ms_per_email: dict[str, float]
    # E-mails per second from the first in the Maildir to the last: the mailer at work.
    steady_per_s: float

    @property
    def per_s(self) -> float:
        return self.delivered / self.wall_s if self.wall_s else 0.0

    @property
    def mailer_cpu_share(self) -> float:
        """The mailer's rate as a share of what its CPU per e-mail allows on one core: near 1
        it is bound by its CPU; well below, by waits (or by the other processes' CPU)."""
        return self.steady_per_s * self.cpu_ms_per_email["mailer"] / 1000


async def bench_mail(
    csv_path: Path, connections: int = SMTP_CONNECTIONS, within: float = 900
) -> MailRun:
    with tempfile.TemporaryDirectory(prefix="mail-bench-") as tmp:
        workdir = Path(tmp)
        server = NatsServer(workdir / "nats").start()
        smtp_port = free_port()
        catcher = ServiceProcess(
            "boletos_cli.stack.smtp_catcher",
            {},
            workdir / "smtp.log",
            args=["--port", str(smtp_port), "--maildir", str(workdir / "mail")],
        )
        boleto_addr = f"127.0.0.1:{free_port()}"
        access = bench_access(workdir).service_env()
        boleto = ServiceProcess(
            "boleto_service",
            {**access, "GRPC_LISTEN_ADDR": boleto_addr,
             "DATABASE_URL": f"sqlite:///{workdir / 'boleto.db'}",
             "NATS_URL": server.url, "LOG_LEVEL": "WARNING"},
            workdir / "boleto.log",
        )  # fmt: skip
        mailer = ServiceProcess(
            "mailer_service",
            {**access, "GRPC_LISTEN_ADDR": f"127.0.0.1:{free_port()}",
             "DATABASE_URL": f"sqlite:///{workdir / 'mailer.db'}", "NATS_URL": server.url,
             "BOLETO_ADDR": boleto_addr, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
             "SMTP_SECURITY": "none", "SMTP_CONNECTIONS": str(connections),
             "LOG_LEVEL": "WARNING"},
            workdir / "mailer.log",
        )  # fmt: skip
        maildir = workdir / "mail" / "new"
        try:
            debts = await _publish_file(server.url, csv_path)
            boleto.start()
            if await count_issued(server.url, debts, within) < debts:
                raise RuntimeError(f"boletos not issued in time: {boleto.log_tail()}")
            catcher.start()
            wait_for_port(smtp_port)
            processes = {"mailer": mailer, "boleto": boleto, "catcher": catcher}
            started = time.perf_counter()
            mailer.start()
            delivered = 0
            # CPU is counted from the first e-mail in the Maildir, so that the mailer's start
            # (imports, schema, connections) is not spread over the e-mails.
            counted_from: tuple[int, float, dict[str, float]] | None = None
            deadline = time.monotonic() + within
            while delivered < debts and time.monotonic() < deadline:
                await asyncio.sleep(0.05 if counted_from is None else 0.2)
                delivered = sum(1 for _ in maildir.iterdir()) if maildir.exists() else 0
                if counted_from is None and delivered:
                    counted_from = (delivered, time.perf_counter(), _cpu(processes))
            ended = time.perf_counter()
            first, first_at, cpu_before = counted_from or (0, started, _cpu(processes))
            cpu_after = _cpu(processes)
            mailed = max(1, delivered - first)
            cpu = {name: 1000 * (cpu_after[name] - cpu_before[name]) / mailed for name in processes}
            steady = mailed / (ended - first_at) if ended > first_at else 0.0
            return MailRun(debts, delivered, ended - started, cpu, steady)
        finally:
            for process in (mailer, boleto, catcher):
                process.stop()
            server.stop()


def _cpu(processes: dict[str, ServiceProcess]) -> dict[str, float]:
    return {name: cpu_seconds(p.pid) or 0.0 for name, p in processes.items()}
