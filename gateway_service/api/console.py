"""The operator console: server-rendered pages over the REST handlers, for people who work in
a browser. Signing in with an API key seals it into an encrypted, HttpOnly, Secure,
SameSite=Strict cookie (the gateway keeps no session store and holds no privilege: every
page calls the services with the signed-in credential, so the services' roles decide, and a
page shows only what the role may do). Every request that changes something carries the
session's CSRF token and comes from the console's own origin."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import jinja2
from fastapi import FastAPI
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from boletos.platform import logs
from boletos.platform.access.key_roles import ROLE_OF
from boletos.platform.access.roles import ACCESS, BOLETO, INGEST, KEYS, MAILER
from boletos.platform.errors import details_of
from boletos.v1 import boleto_pb2, ingest_pb2, keys_pb2, mailer_pb2
from gateway_service.api.handlers import Handler, ProblemRaised, handler_for
from gateway_service.api.routes import ROUTES
from gateway_service.clients.oidc import OidcClient, OidcError, Pkce
from gateway_service.clients.services import Services
from gateway_service.domain import brazil, proto_json
from gateway_service.domain.problems import Problem, from_rpc
from gateway_service.domain.sessions import (
    COOKIE,
    FLOW_COOKIE,
    FLOW_SECONDS,
    Session,
    Sessions,
    csrf_matches,
)

HERE = Path(__file__).parent
# The console's own script and style only; no frames; forms post to the console alone.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# same-origin, not no-referrer: a browser sends "Origin: null" with a form posted from a
# no-referrer page, and the console checks the Origin of every change.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": POLICY,
    "Referrer-Policy": "same-origin",
}
SHOWN_FAILURES = (mailer_pb2.DELIVERY_STATUS_FAILED, mailer_pb2.DELIVERY_STATUS_UNCERTAIN)
SIGN_IN_FAILED = "Não foi possível entrar pela conta da empresa. Tente de novo."
TOKEN_REFUSED = "A conta da empresa não dá acesso a este sistema (sem papel permitido)."
log = logs.get_logger("gateway")


def masked_email(address: str) -> str:
    """'a***@example.com': enough to recognise, not to write to."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


class ChangeRefused(Exception):
    """A change without its session's CSRF token, or from another origin: a 403 page."""

    def __init__(self, session: Session) -> None:
        super().__init__("change refused")
        self.session = session


class NotSignedIn(Exception):
    pass


def add_console(
    app: FastAPI,
    services: Services,
    sessions: Sessions,
    oidc: OidcClient | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "page_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates.filters["reais"] = lambda cents: brazil.reais(int(cents or 0))
    templates.filters["masked_email"] = masked_email
    rest: dict[str, Handler] = {r.operation_id: handler_for(r, services) for r in ROUTES}

    def render(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**values), status, HEADERS)

    def session_of(request: Request) -> Session:
        found = sessions.open(request.cookies.get(COOKIE, ""), clock())
        if found is None:
            raise NotSignedIn()
        return found

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        return origin is None or origin == own

    async def caller(credential: str) -> keys_pb2.Caller:
        answer = await services.unary(
            KEYS + "GetCaller", keys_pb2.GetCallerRequest(), f"Bearer {credential}"
        )
        assert isinstance(answer, keys_pb2.GetCallerResponse)
        return answer.caller

    async def call(session: Session, rpc: str, request: Any) -> Any:
        return await services.unary(rpc, request, f"Bearer {session.credential}")

    async def page_context(session: Session) -> dict[str, Any]:
        try:
            who = await caller(session.credential)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                # The key was revoked or the provider's token expired: sign in again.
                raise NotSignedIn() from None
            raise
        roles = {ROLE_OF[r] for r in who.roles if r in ROLE_OF}
        may = {
            name: ACCESS[rpc].allows(roles)
            for name, rpc in {
                "upload": INGEST + "Upload",
                "report": INGEST + "GetUploadReport",
                "retry": MAILER + "RetryFailed",
                "api_keys": KEYS + "ListKeys",
                "remessas": "/boletos.v1.BoletoService/ListRemessas",
                "cut": "/boletos.v1.BoletoService/CreateRemessas",
                "download": "/boletos.v1.BoletoService/GetRemessa",
                "retorno": "/boletos.v1.BoletoService/ProcessRetorno",
                "boletos": "/boletos.v1.BoletoService/GetBoleto",
                "deliveries": MAILER + "ListDeliveries",
            }.items()
        }
        return {
            "who": who.name or who.id,
            "roles": ", ".join(sorted(r.value for r in roles)),
            # Attributes, not a dict: a template's `may.keys` would be the dict's method.
            "may": SimpleNamespace(**may),
            "csrf": session.csrf,
        }

    def as_caller(request: Request, session: Session) -> Request:
        """The request as the REST handlers read it: with the session's credential."""
        scope = dict(request.scope)
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        headers.append((b"authorization", f"Bearer {session.credential}".encode()))
        scope["headers"] = headers
        return Request(scope, request.receive)

    def problem_text(exc: grpc.aio.AioRpcError) -> str:
        return from_rpc(exc.code(), exc.details() or "", details_of(exc)).detail

    def checked(request: Request, session: Session, token: str) -> bool:
        """A change from the console's own origin with the session's CSRF token."""
        return same_origin(request) and csrf_matches(session, token)

    async def checked_form(request: Request, session: Session) -> FormData:
        """The form of a change; raises ChangeRefused when it fails `checked`."""
        form = await request.form()
        if not checked(request, session, str(form.get("csrf", ""))):
            raise ChangeRefused(session)
        return form

    @app.exception_handler(ChangeRefused)
    async def refused_page(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ChangeRefused)
        return render(
            "console_error.html",
            403,
            message="Pedido recusado.",
            **(await page_context(exc.session)),
        )

    async def failed_page(session: Session, exc: grpc.aio.AioRpcError) -> HTMLResponse:
        status = 403 if exc.code() == grpc.StatusCode.PERMISSION_DENIED else 400
        return render(
            "console_error.html", status, message=problem_text(exc), **(await page_context(session))
        )

    @app.exception_handler(NotSignedIn)
    async def signed_out(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/console/login", 303, headers=HEADERS)

    @app.get("/console/login", include_in_schema=False)
    async def login_page(request: Request) -> Response:
        return render("console_login.html", error="", oidc=oidc is not None)

    def signed_in(credential: str, name: str) -> Response:
        cookie, _ = sessions.seal(credential, name, clock())
        response = RedirectResponse("/console", 303, headers=HEADERS)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=sessions.lifetime_seconds,
            path="/",
            secure=True,
            httponly=True,
            samesite="strict",
        )
        return response

    def callback_uri(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}/console/oidc/callback"

    @app.get("/console/oidc/start", include_in_schema=False)
    async def oidc_start(request: Request) -> Response:
        if oidc is None:
            return render("console_login.html", 404, error="", oidc=False)
        state, pkce = secrets.token_urlsafe(24), Pkce.new()
        try:
            target = await oidc.authorization_url(state, pkce, callback_uri(request))
        except OidcError as exc:
            log.warning("console.oidc_failed", error=str(exc))
            return render("console_login.html", 502, error=SIGN_IN_FAILED, oidc=True)
        response = RedirectResponse(target, 303, headers=HEADERS)
        # Lax, not Strict: the provider's redirect back is a cross-site navigation.
        response.set_cookie(
            FLOW_COOKIE,
            sessions.seal_flow(state, pkce.verifier, clock()),
            max_age=FLOW_SECONDS,
            path="/",
            secure=True,
            httponly=True,
            samesite="lax",
        )
        return response

    @app.get("/console/oidc/callback", include_in_schema=False)
    async def oidc_callback(request: Request, code: str = "", state: str = "") -> Response:
        flow = sessions.open_flow(request.cookies.get(FLOW_COOKIE, ""), clock())
        if oidc is None or flow is None or not code or not secrets.compare_digest(flow[0], state):
            return render("console_login.html", 400, error=SIGN_IN_FAILED, oidc=oidc is not None)
        try:
            token = await oidc.access_token(code, Pkce(flow[1], ""), callback_uri(request))
            who = await caller(token)
        except OidcError as exc:
            log.warning("console.oidc_failed", error=str(exc))
            return render("console_login.html", 401, error=SIGN_IN_FAILED, oidc=True)
        except grpc.aio.AioRpcError:
            return render("console_login.html", 401, error=TOKEN_REFUSED, oidc=True)
        response = signed_in(token, who.name or who.id)
        response.delete_cookie(FLOW_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
        return response

    @app.post("/console/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if not same_origin(request):
            return render(
                "console_login.html", 403, error="Origem não permitida.", oidc=oidc is not None
            )
        form = await request.form()
        key = str(form.get("key", "")).strip()
        try:
            who = await caller(key)
        except grpc.aio.AioRpcError:
            return render(
                "console_login.html", 401, error="Chave não aceita.", oidc=oidc is not None
            )
        return signed_in(key, who.name or who.id)

    @app.post("/console/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = session_of(request)
        await checked_form(request, session)
        response = RedirectResponse("/console/login", 303, headers=HEADERS)
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    @app.get("/console", include_in_schema=False)
    async def home(request: Request) -> Response:
        session = session_of(request)
        context = await page_context(session)
        try:
            listed = await call(
                session, INGEST + "ListUploads", ingest_pb2.ListUploadsRequest(page_size=50)
            )
            uploads = [proto_json.to_json(u) for u in listed.uploads]
        except grpc.aio.AioRpcError as exc:
            uploads, context["error"] = [], problem_text(exc)
        return render("console_home.html", uploads=uploads, **context)

    @app.get("/console/uploads/{upload_id}", include_in_schema=False)
    async def upload_page(request: Request, upload_id: str) -> Response:
        session = session_of(request)
        context = await page_context(session)
        try:
            got = await call(
                session, INGEST + "GetUpload", ingest_pb2.GetUploadRequest(upload_id=upload_id)
            )
        except grpc.aio.AioRpcError as exc:
            return render("console_error.html", 404, message=problem_text(exc), **context)
        errors = []
        stream = services.server_stream(
            INGEST + "ListRowErrors",
            ingest_pb2.ListRowErrorsRequest(upload_id=upload_id),
            f"Bearer {session.credential}",
        )
        async for batch in stream:
            errors += [proto_json.to_json(e) for e in batch.row_errors]
            if len(errors) >= 500:
                stream.cancel()
                break
        return render(
            "console_upload.html",
            summary=proto_json.to_json(got.summary),
            errors=errors[:500],
            **context,
        )

    @app.get("/console/boletos", include_in_schema=False)
    async def boleto_page(request: Request, debt_id: str = "") -> Response:
        session = session_of(request)
        context = await page_context(session)
        boleto = delivery = None
        error = ""
        if debt_id:
            try:
                got = await call(
                    session,
                    "/boletos.v1.BoletoService/GetBoleto",
                    boleto_pb2.GetBoletoRequest(debt_id=debt_id),
                )
                boleto = proto_json.to_json(got.boleto)
                sent = await call(
                    session, MAILER + "GetDelivery", mailer_pb2.GetDeliveryRequest(debt_id=debt_id)
                )
                delivery = proto_json.to_json(sent.delivery)
            except grpc.aio.AioRpcError as exc:
                error = problem_text(exc)
        return render(
            "console_boleto.html",
            debt_id=debt_id,
            boleto=boleto,
            delivery=delivery,
            error=error,
            **context,
        )

    @app.get("/console/deliveries", include_in_schema=False)
    async def deliveries_page(request: Request, upload_id: str = "", notice: str = "") -> Response:
        """One upload's failed and uncertain e-mails (the newest upload's by default)."""
        session = session_of(request)
        context = await page_context(session)
        found: list[dict[str, Any]] = []
        uploads: list[dict[str, Any]] = []
        error = ""
        try:
            listed = await call(
                session, INGEST + "ListUploads", ingest_pb2.ListUploadsRequest(page_size=50)
            )
            uploads = [proto_json.to_json(u) for u in listed.uploads]
            upload_id = upload_id or (uploads[0]["uploadId"] if uploads else "")
            for status in SHOWN_FAILURES if upload_id else ():
                page = await call(
                    session,
                    MAILER + "ListDeliveries",
                    mailer_pb2.ListDeliveriesRequest(
                        upload_id=upload_id, status=status, page_size=1000
                    ),
                )
                found += [proto_json.to_json(d) for d in page.deliveries]
        except grpc.aio.AioRpcError as exc:
            error = problem_text(exc)
        return render(
            "console_deliveries.html",
            deliveries=found,
            uploads=uploads,
            upload_id=upload_id,
            error=error,
            notice=notice,
            **context,
        )

    @app.post("/console/deliveries/retry", include_in_schema=False)
    async def retry(request: Request) -> Response:
        session = session_of(request)
        form = await checked_form(request, session)
        try:
            answer = await call(
                session,
                MAILER + "RetryFailed",
                mailer_pb2.RetryFailedRequest(
                    upload_id=str(form.get("upload_id", "")), include_uncertain=True
                ),
            )
        except grpc.aio.AioRpcError as exc:
            return await failed_page(session, exc)
        queued = proto_json.to_json(answer).get("requeued", "0")
        upload_id = str(form.get("upload_id", ""))
        return RedirectResponse(
            f"/console/deliveries?upload_id={upload_id}&notice={queued}", 303, headers=HEADERS
        )

    @app.get("/console/remessas", include_in_schema=False)
    async def remessas_page(request: Request, notice: str = "") -> Response:
        session = session_of(request)
        context = await page_context(session)
        remessas: list[dict[str, Any]] = []
        error = ""
        try:
            listed = await call(
                session, BOLETO + "ListRemessas", boleto_pb2.ListRemessasRequest(page_size=50)
            )
            remessas = [proto_json.to_json(r) for r in listed.remessas]
        except grpc.aio.AioRpcError as exc:
            error = problem_text(exc)
        return render(
            "console_remessas.html", remessas=remessas, error=error, notice=notice, **context
        )

    @app.post("/console/remessas", include_in_schema=False)
    async def cut_remessas(request: Request) -> Response:
        session = session_of(request)
        await checked_form(request, session)
        try:
            made = await call(
                session, BOLETO + "CreateRemessas", boleto_pb2.CreateRemessasRequest()
            )
        except grpc.aio.AioRpcError as exc:
            return await failed_page(session, exc)
        return RedirectResponse(
            f"/console/remessas?notice={len(made.remessas)}", 303, headers=HEADERS
        )

    @app.get("/console/remessas/{remessa_id}/file", include_in_schema=False)
    async def remessa_file(request: Request, remessa_id: str) -> Response:
        return await rest["GetRemessa"](as_caller(request, session_of(request)))

    @app.get("/console/keys", include_in_schema=False)
    async def keys_page(request: Request) -> Response:
        session = session_of(request)
        context = await page_context(session)
        try:
            listed = await call(session, KEYS + "ListKeys", keys_pb2.ListKeysRequest())
        except grpc.aio.AioRpcError as exc:
            return render("console_error.html", 403, message=problem_text(exc), **context)
        keys = [proto_json.to_json(k) for k in listed.keys]
        return render("console_keys.html", keys=keys, made=None, **context)

    @app.post("/console/keys", include_in_schema=False)
    async def create_key(request: Request) -> Response:
        session = session_of(request)
        form = await checked_form(request, session)
        role = str(form.get("role", ""))
        if role not in keys_pb2.KeyRole.keys():
            return render(
                "console_error.html",
                400,
                message="Papel desconhecido.",
                **(await page_context(session)),
            )
        try:
            made = await call(
                session,
                KEYS + "CreateKey",
                keys_pb2.CreateKeyRequest(name=str(form.get("name", "")), role=role),
            )
            listed = await call(session, KEYS + "ListKeys", keys_pb2.ListKeysRequest())
        except grpc.aio.AioRpcError as exc:
            return await failed_page(session, exc)
        # Shown once, on this page only: the services keep no copy of the secret.
        return render(
            "console_keys.html",
            keys=[proto_json.to_json(k) for k in listed.keys],
            made={"name": made.key.name, "secret": made.secret_key},
            **(await page_context(session)),
        )

    @app.post("/console/keys/{key_id}/revoke", include_in_schema=False)
    async def revoke_key(request: Request, key_id: str) -> Response:
        session = session_of(request)
        await checked_form(request, session)
        try:
            await call(session, KEYS + "RevokeKey", keys_pb2.RevokeKeyRequest(key_id=key_id))
        except grpc.aio.AioRpcError as exc:
            return await failed_page(session, exc)
        return RedirectResponse("/console/keys", 303, headers=HEADERS)

    # What the pages' scripts call: the REST handlers, as the signed-in caller.
    @app.post("/console/api/retornos", include_in_schema=False)
    async def api_retorno(request: Request) -> Response:
        session = session_of(request)
        if not checked(request, session, request.headers.get("x-csrf-token", "")):
            raise ProblemRaised(_refused())
        return await rest["ProcessRetorno"](as_caller(request, session))

    @app.post("/console/api/uploads", include_in_schema=False)
    async def api_upload(request: Request) -> Response:
        session = session_of(request)
        if not checked(request, session, request.headers.get("x-csrf-token", "")):
            raise ProblemRaised(_refused())
        return await rest["Upload"](as_caller(request, session))

    @app.get("/console/api/uploads/{upload_id}/events", include_in_schema=False)
    async def api_events(request: Request, upload_id: str) -> Response:
        return await rest["WatchUpload"](as_caller(request, session_of(request)))

    @app.get("/console/uploads/{upload_id}/report.csv", include_in_schema=False)
    async def report(request: Request, upload_id: str) -> Response:
        return await rest["GetUploadReport"](as_caller(request, session_of(request)))

    @app.get("/console/boletos/{debt_id}/pdf", include_in_schema=False)
    async def pdf(request: Request, debt_id: str) -> Response:
        return await rest["GetBoletoPdf"](as_caller(request, session_of(request)))


def _refused() -> Problem:
    return Problem(403, "CSRF_REFUSED", "the request lacks the session's CSRF token")
