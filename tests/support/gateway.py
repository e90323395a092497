"""The gateway in-process over HTTPS in front of services a test runs, and an HTTP client
that trusts the tests' CA."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator

import httpx

from gateway_service.app import run
from gateway_service.config import Settings
from tests.support import access
from tests.support.processes import free_port


@contextlib.asynccontextmanager
async def running_gateway(
    ingest: str, boleto: str, mailer: str, port: int | None = None, **env: str
) -> AsyncIterator[str]:
    """Yields the gateway's base URL (https://127.0.0.1:PORT); `port` a free one by default."""
    s = access.secrets()
    port = port or free_port()
    settings = Settings.from_env(
        {
            "HTTP_LISTEN_ADDR": f"127.0.0.1:{port}",
            "HTTP_TLS_CERT": str(s.cert(access.CERT_OF)),
            "HTTP_TLS_KEY": str(s.key(access.CERT_OF)),
            "INGEST_ADDR": ingest,
            "BOLETO_ADDR": boleto,
            "MAILER_ADDR": mailer,
            "GRPC_TLS_CA": str(s.ca),
            "GRPC_TLS_CERT": str(s.cert(access.CERT_OF)),
            "GRPC_TLS_KEY": str(s.key(access.CERT_OF)),
            "SHUTDOWN_GRACE_SECONDS": "5",
            **env,
        }
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run(settings, stop, ready=ready))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if task.done():
        task.result()
        raise AssertionError("the gateway stopped before it served")
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def client(base_url: str, key: str | None = None, **kwargs: object) -> httpx.AsyncClient:
    """Calls as admin unless `key` says otherwise ("" sends no credential)."""
    trusted = ssl.create_default_context(cafile=str(access.secrets().ca))
    bearer = access.admin_key() if key is None else key
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx.AsyncClient(
        base_url=base_url,
        verify=trusted,
        headers=headers,
        timeout=60,
        **kwargs,  # type: ignore[arg-type]
    )
