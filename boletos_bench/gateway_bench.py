"""``python -m boletos_bench.gateway_bench``: a debts file sent through the HTTP gateway with
`curl -F file=@...`, as a client company's system would, and what it costs the gateway.

The ingest service and the gateway run as processes of their own (NATS too; nothing consumes
downstream). The same file is also sent straight to ingest over gRPC, the yardstick. Reported:
wall time of each, the gateway's CPU, and its peak resident memory before and after the
upload: a gateway that streamed the body grows by a few megabytes whatever the file's size,
one that buffered it by at least the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from boletos.provision import Secrets, ensure_secrets
from boletos_bench.machine import machine_state
from boletos_bench.procs import cpu_seconds, peak_rss_bytes
from boletos_testing.datagen import cached_csv
from boletos_testing.ports import free_port, wait_for_port
from boletos_testing.processes import NatsServer, ServiceProcess

MIB = 1024 * 1024


@dataclass(frozen=True)
class GatewayRun:
    rows: int
    file_bytes: int
    accepted: int
    wall_seconds: float
    direct_seconds: float
    gateway_cpu_seconds: float
    gateway_rss_before: int
    gateway_rss_peak: int

    @property
    def rss_growth(self) -> int:
        return self.gateway_rss_peak - self.gateway_rss_before


def _curl(url: str, secrets: Secrets, path: Path, request_id: str) -> dict[str, object]:
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--fail-with-body", "--cacert", str(secrets.ca),
         "-H", f"Authorization: Bearer {secrets.admin_key.read_text().strip()}",
         "-H", f"Idempotency-Key: {request_id}",
         "-F", f"file=@{path}", f"{url}/v1/uploads"],
        capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stdout}{done.stderr}")
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def _direct(address: str, secrets: Secrets, path: Path) -> float:
    """The same file straight to ingest with `boletos upload` (gRPC), timed."""
    started = time.perf_counter()
    subprocess.run(
        ["boletos", "upload", str(path), "--json"],
        env={
            "PATH": str(Path(sys.executable).parent),
            "BOLETOS_INGEST_ADDR": address,
            "BOLETOS_CA_FILE": str(secrets.ca),
            "BOLETOS_API_KEY_FILE": str(secrets.admin_key),
        },
        capture_output=True,
        check=True,
        timeout=3600,
    )
    return time.perf_counter() - started


def run(rows: int, data_dir: Path) -> GatewayRun:
    path = cached_csv(rows, cache_dir=data_dir)
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        root = Path(tmp)
        secrets = ensure_secrets(root / "secrets")
        nats = NatsServer(root / "nats").start()
        ingest_port, gateway_port = free_port(), free_port()
        ingest = ServiceProcess(
            "ingest_service",
            {
                "GRPC_LISTEN_ADDR": f"127.0.0.1:{ingest_port}",
                "DATABASE_URL": f"sqlite:///{root / 'ingest.db'}",
                "NATS_URL": nats.url,
                "DB_AUTO_MIGRATE": "true",
                "LOG_LEVEL": "WARNING",
                **secrets.service_env("ingest"),
            },
            root / "ingest.log",
        ).start()
        gateway = ServiceProcess(
            "gateway_service",
            {
                "HTTP_LISTEN_ADDR": f"127.0.0.1:{gateway_port}",
                "HTTP_TLS_CERT": str(secrets.cert("gateway")),
                "HTTP_TLS_KEY": str(secrets.key("gateway")),
                "INGEST_ADDR": f"127.0.0.1:{ingest_port}",
                "GRPC_TLS_CA": str(secrets.ca),
                "LOG_LEVEL": "WARNING",
            },
            root / "gateway.log",
        ).start()
        try:
            wait_for_port(ingest_port, 60)
            wait_for_port(gateway_port, 60)
            url = f"https://127.0.0.1:{gateway_port}"
            # A small file first: what the first request loads is not the upload's cost.
            _curl(url, secrets, cached_csv(10, seed=3, cache_dir=data_dir), "gateway-bench-warm")
            rss_before = peak_rss_bytes(gateway.pid) or 0
            cpu_before = cpu_seconds(gateway.pid) or 0.0
            started = time.perf_counter()
            answer = _curl(url, secrets, path, "gateway-bench")
            wall = time.perf_counter() - started
            rss_peak = peak_rss_bytes(gateway.pid) or 0
            cpu = (cpu_seconds(gateway.pid) or 0.0) - cpu_before
            summary = answer["summary"]
            assert isinstance(summary, dict)
            # Another file of the same size and shape: the first one's rows would all be
            # duplicates now, which ingest takes faster.
            direct = _direct(
                f"127.0.0.1:{ingest_port}", secrets, cached_csv(rows, seed=2, cache_dir=data_dir)
            )
        finally:
            gateway.stop()
            ingest.stop()
            nats.stop()
        return GatewayRun(
            rows=rows,
            file_bytes=path.stat().st_size,
            accepted=int(summary["accepted"]) + int(summary["duplicates"]),
            wall_seconds=wall,
            direct_seconds=direct,
            gateway_cpu_seconds=cpu,
            gateway_rss_before=rss_before,
            gateway_rss_peak=rss_peak,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.gateway_bench")
    parser.add_argument("--rows", type=int, default=1_100_000)
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    print("machine:", ", ".join(f"{k} {v}" for k, v in machine_state().items()))
    result = run(args.rows, args.data_dir)
    print(
        f"{result.rows:,} rows ({result.file_bytes / MIB:.0f} MiB) through the gateway with curl: "
        f"{result.wall_seconds:.1f} s ({result.file_bytes / MIB / result.wall_seconds:.1f} MiB/s); "
        f"straight to ingest over gRPC: {result.direct_seconds:.1f} s"
    )
    print(
        f"gateway: {result.gateway_cpu_seconds:.1f} CPU s, peak RSS "
        f"{result.gateway_rss_before / MIB:.0f} MiB before, {result.gateway_rss_peak / MIB:.0f} "
        f"MiB after (+{result.rss_growth / MIB:.1f} MiB for a {result.file_bytes / MIB:.0f} MiB "
        f"file); {result.accepted:,} rows taken"
    )
    if args.json:
        args.json.write_text(json.dumps(result.__dict__ | {"rss_growth": result.rss_growth}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
