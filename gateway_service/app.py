"""The gateway's composition root: the service channels, the HTTP app, uvicorn serving it
until `stop`, then a graceful end (requests in flight get SHUTDOWN_GRACE_SECONDS)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys

import uvicorn

from boletos.platform import logs, tracing
from boletos.platform.env import ConfigError, process_env
from boletos.platform.metrics import MetricsEndpoint
from gateway_service.api import web
from gateway_service.clients.oidc import OidcClient
from gateway_service.clients.services import Addresses, Services
from gateway_service.config import Settings
from gateway_service.domain.rate_limit import RateLimit
from gateway_service.domain.sessions import Sessions

NAME = "gateway_service"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
log = logs.get_logger("gateway")


async def run(
    settings: Settings, stop: asyncio.Event, *, ready: asyncio.Event | None = None
) -> None:
    """Serves until `stop`; `ready` is set once the port listens (tests wait on it)."""
    traced = tracing.start(NAME, tracing.TraceSettings.from_env(process_env()))
    services = Services(
        Addresses(settings.ingest_addr, settings.boleto_addr, settings.mailer_addr),
        settings.client_tls,
    )
    metrics = MetricsEndpoint(settings.metrics_addr) if settings.metrics_addr else None
    oidc = OidcClient(settings.console_oidc) if settings.console_oidc else None
    config = uvicorn.Config(
        web.build(
            services,
            hsts=settings.tls is not None,
            page_limit=RateLimit(settings.page_rate_per_minute, settings.page_rate_burst),
            sessions=Sessions(
                settings.console_session_key or Sessions.new_key(),
                settings.console_session_hours * 3600,
            ),
            oidc=oidc,
        ),
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls.cert_file if settings.tls else None,
        ssl_keyfile=settings.tls.key_file if settings.tls else None,
        # The service's own JSON lines only: uvicorn's access log would write raw URLs.
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        server_header=False,
    )
    # uvicorn's access log writes raw URLs (ids, the debtors' link tokens); its start and
    # stop lines repeat what service.serving and service.stopped say.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    server = uvicorn.Server(config)
    # Bound and listening before uvicorn starts: a port in use is an OSError here (uvicorn
    # would exit the process), and connections queue from this moment on.
    listener = _listening(settings.host, settings.port)
    serving = asyncio.create_task(server.serve(sockets=[listener]), name="http")
    try:
        log.info("service.serving", addr=settings.listen_addr, tls=settings.tls is not None)
        if ready is not None:
            ready.set()
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        server.should_exit = True
        await serving
    finally:
        if not serving.done():
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        await services.close()
        if oidc is not None:
            await oidc.close()
        if metrics is not None:
            await metrics.close()
        if traced is not None:
            traced.close()
        listener.close()
    log.info("service.stopped")


def _listening(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def main() -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"{NAME}: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    logs.configure(settings.log_format, settings.log_level)
    log.info("service.config", **settings.masked())

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    try:
        asyncio.run(serve())
    except OSError as exc:
        log.error("service.failed", error=str(exc))
        return EXIT_FAILED
    return EXIT_OK
