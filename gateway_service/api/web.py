"""The gateway's HTTP application: the REST routes of the route table, OpenAPI 3.1 at
/openapi.json and Swagger UI at /docs (served from this process, no CDN), problem details for
every error, and the headers that keep pages out of frames and responses out of caches.

FastAPI: it writes the OpenAPI document from the code and serves it with Swagger UI, is
built on Starlette's streaming requests and responses (what a 100 MB upload needs), and is
what Python teams running HTTP APIs already know; uvicorn runs it."""

from __future__ import annotations

import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import grpc
import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from opentelemetry.trace import Span, SpanKind
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boletos.platform import logs, trace_context, tracing
from boletos.platform.errors import details_of
from gateway_service.api import openapi
from gateway_service.api.console import add_console
from gateway_service.api.handlers import ProblemRaised, handler_for
from gateway_service.api.pages import add_pages
from gateway_service.api.routes import ROUTES
from gateway_service.clients.oidc import OidcClient
from gateway_service.clients.services import Services
from gateway_service.domain.problems import MEDIA_TYPE, TITLES, Problem, from_rpc
from gateway_service.domain.rate_limit import RateLimit
from gateway_service.domain.sessions import Sessions

log = logs.get_logger("gateway")
SWAGGER_ASSETS = Path(swagger_ui.__file__).parent / "static"

HTTP_REQUESTS = Counter(
    "boletos_http_requests_total",
    "HTTP requests the gateway answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "boletos_http_request_seconds",
    "Time to the response's first byte (a stream's is its opening), by route template.",
    ["method", "route"],
)

# Every response: no sniffing, no framing (clickjacking), no referrer leaking a page's URL.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
# Swagger UI's own scripts and styles, from this origin only.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>boletos API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
DOCS_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
});
"""


def build(
    services: Services,
    *,
    hsts: bool = False,
    page_limit: RateLimit | None = None,
    sessions: Sessions | None = None,
    oidc: OidcClient | None = None,
) -> FastAPI:
    app = FastAPI(
        title="boletos",
        version=version("boletos"),
        summary="Debt files in, registered boletos and e-mails out.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    for route in ROUTES:
        app.add_api_route(
            route.path,
            handler_for(route, services),
            methods=[route.method],
            summary=route.summary,
            tags=[route.tag],
            name=route.operation_id,
            openapi_extra=openapi.operation(route),
            include_in_schema=True,
        )
    add_pages(app, services, page_limit or RateLimit(per_minute=30, burst=20))
    add_console(app, services, sessions or Sessions(Sessions.new_key(), 8 * 3600), oidc)
    _docs(app)
    _errors(app)
    app.add_middleware(Guard, hsts=hsts)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # The process answers; whether the services do is each one's own health check.
        return {"status": "ok"}

    return app


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document: FastAPI's paths, with the protos' schemas as components."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description="Every endpoint calls one RPC of the services with the caller's own "
        "credential (`Authorization: Bearer KEY`); its roles are the RPC's. Errors are "
        "RFC 9457 problem details whose `reason` is the RPC's ErrorInfo reason.",
        routes=app.routes,
    )
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            # The handlers read the raw request; FastAPI invents no body or 422 for them.
            operation.get("responses", {}).pop("422", None)
    doc["components"] = openapi.components()
    doc["security"] = [{"bearer": []}]
    return doc


def _docs(app: FastAPI) -> None:
    cached: dict[str, Any] = {}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        if not cached:
            cached.update(document(app))
        return JSONResponse(cached)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": DOCS_POLICY})

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(DOCS_INIT, media_type="text/javascript")

    app.mount("/docs/assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body(), problem.status, headers=problem.headers(), media_type=MEDIA_TYPE
    )


def _errors(app: FastAPI) -> None:
    async def rpc_failed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, grpc.aio.AioRpcError)
        return problem_response(from_rpc(exc.code(), exc.details() or "", details_of(exc)))

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemRaised)
        return problem_response(exc.problem)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        reason = {404: "ROUTE_NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem_response(Problem(exc.status_code, reason, detail))

    app.add_exception_handler(grpc.aio.AioRpcError, rpc_failed)
    app.add_exception_handler(ProblemRaised, refused)
    app.add_exception_handler(HTTPException, http_error)


class Guard:
    """Outermost: adds the security headers, counts and logs each request by its route
    template, and answers an unexpected failure with a problem, logging only its type (an
    exception's message may hold the request's data)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        headers = dict(SECURITY_HEADERS)
        if hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # A caller's traceparent continues its trace; the gRPC calls below join this span.
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with tracing.span(
            f"HTTP {scope['method']}",
            parent=trace_context.extract(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": scope["method"]},
        ) as span:
            await self._serve(scope, receive, send, started, span)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, started: float, span: Span
    ) -> None:
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # The route's template names the span; never the URL, which holds ids and
                # the debtors' link tokens.
                route = _route(scope)
                span.update_name(f"{scope['method']} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in self.headers if k not in present),
                ]
                self._measure(scope, status, started)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:  # a problem, never a traceback with data
            log.error("http.failed", route=_route(scope), error=type(exc).__name__)
            if status:
                raise
            problem = Problem(500, "INTERNAL", "the gateway failed; see its log")
            await problem_response(problem)(scope, receive, sending)

    def _measure(self, scope: Scope, status: int, started: float) -> None:
        route = _route(scope)
        elapsed = time.perf_counter() - started
        HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
        HTTP_SECONDS.labels(scope["method"], route).observe(elapsed)
        log.info(
            "http.request",
            method=scope["method"],
            route=route,
            status=status,
            ms=round(elapsed * 1000, 1),
        )


def _route(scope: Scope) -> str:
    """The route's path template (/v1/boletos/{debt_id}), never the ids in the URL."""
    return getattr(scope.get("route"), "path", "unmatched")
