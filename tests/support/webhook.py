"""A real HTTP endpoint (http.server on a thread) that keeps every JSON POST it gets."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hook:
    """What the endpoint received; `status` answers each POST (by its 1-based number)."""

    # Decoded JSON bodies: their values are whatever JSON type the sender wrote.
    posts: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: Callable[[int], int] = lambda _n: 200
    attempts: int = 0


@contextlib.contextmanager
def webhook_endpoint(hook: Hook, port: int = 0) -> Iterator[str]:
    """Serves until the block ends; yields the URL to POST to."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hook.attempts += 1
            code = hook.status(hook.attempts)
            if code == 200:
                hook.posts.append(json.loads(body))
                hook.headers.append(dict(self.headers))
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/boletos"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
