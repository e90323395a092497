"""The one gate every call of every service goes through.

For each call: find the method in the access table (a method not there is refused to all),
read `authorization: Bearer <credential>`, turn it into a principal (an API key through the
key directory, anything else as a JWT when the service trusts an identity provider), check
the principal's roles against the table, and run the call with the principal bound (see
principal.py). Calls the table marks as audited leave one `audit` line: who, which RPC,
which upload or debt, and the outcome; never personal data.

A missing or bad credential is UNAUTHENTICATED with one message whatever was wrong, so the
answer tells a guesser nothing; a good credential without the role is PERMISSION_DENIED.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc

from boletos.platform.access import principal as calling
from boletos.platform.access.directory import KeyDirectory
from boletos.platform.access.keys import PREFIX
from boletos.platform.access.principal import Principal
from boletos.platform.access.roles import ACCESS, PUBLIC, Rule
from boletos.platform.access.tokens import TokenVerifier
from boletos.platform.logs import get_logger
from boletos.platform.rpc_handlers import behavior_of, finished_status, rebuilt

audit_log = get_logger("audit")
log = get_logger("access")

UNAUTHENTICATED_MESSAGE = "a valid credential is required: authorization: Bearer <key or token>"
# Request fields an audit line names, when the request has them.
AUDITED_FIELDS = ("upload_id", "debt_id", "key_id")

# What a servicer adds to its call's audit line (the upload an Upload created, say).
_noted: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "audit_notes", default=None
)


def note(**fields: str) -> None:
    """Adds ids to the audit line of the call in progress (ids only, never personal data)."""
    notes = _noted.get()
    if notes is not None:
        notes.update(fields)


class Authenticator:
    def __init__(self, keys: KeyDirectory | None, tokens: TokenVerifier | None) -> None:
        self._keys = keys
        self._tokens = tokens

    async def principal(self, metadata: Mapping[str, str]) -> Principal | None:
        scheme, _, credential = metadata.get("authorization", "").partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return None
        if credential.startswith(PREFIX + "_"):
            if self._keys is None:
                return None
            return await asyncio.to_thread(self._keys.authenticate, credential)
        if self._tokens is None:
            return None
        return await asyncio.to_thread(self._tokens.verify, credential)


class AccessInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator, table: Mapping[str, Rule] = ACCESS) -> None:
        self._authenticator = authenticator
        self._table = table

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = details.method
        handler = await continuation(details)
        if method in PUBLIC or handler is None:
            return handler
        rule = self._table.get(method)
        if rule is None:
            log.error("access.unlisted_method", rpc=method)
            return _refusal(handler, grpc.StatusCode.PERMISSION_DENIED, f"{method} is not open")
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        who = await self._authenticator.principal(metadata)
        if who is None:
            return _refusal(handler, grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
        if not rule.allows(who.roles):
            if rule.audited:
                audit_log.info(
                    "audit", principal=who.id, rpc=_short(method), outcome="PERMISSION_DENIED"
                )
            held = ", ".join(sorted(who.roles)) or "none"
            return _refusal(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"the credential's role ({held}) may not call {_short(method)}",
            )
        return _bound(handler, who, method, rule.audited)


def _short(method: str) -> str:
    return method.rsplit(".", 1)[-1]


def _refusal(
    handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler:
    if handler.response_streaming:

        async def refuse_stream(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            await context.abort(code, message)
            yield  # pragma: no cover - abort raises

        return rebuilt(handler, refuse_stream)

    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(code, message)

    return rebuilt(handler, refuse)


def _bound(
    handler: grpc.RpcMethodHandler, who: Principal, method: str, audited: bool
) -> grpc.RpcMethodHandler:
    behavior = behavior_of(handler)

    def begin(request: Any) -> tuple[Any, Any, dict[str, str]]:
        notes: dict[str, str] = {}
        if not handler.request_streaming:
            for field in AUDITED_FIELDS:
                value = getattr(request, field, "")
                if value:
                    notes[field] = str(value)
            debt_ids = getattr(request, "debt_ids", None)
            if debt_ids is not None:
                notes["debts"] = str(len(debt_ids))
        return calling.bind(who), _noted.set(notes), notes

    def end(
        tokens: tuple[Any, Any, dict[str, str]],
        context: grpc.aio.ServicerContext,
        failure: BaseException | None,
    ) -> None:
        principal_token, notes_token, notes = tokens
        if audited:
            audit_log.info(
                "audit",
                principal=who.id,
                rpc=_short(method),
                outcome=finished_status(context, failure),
                **notes,
            )
        _noted.reset(notes_token)
        calling.unbind(principal_token)

    if handler.response_streaming:

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            tokens = begin(request)
            failure: BaseException | None = None
            try:
                async for response in behavior(request, context):
                    yield response
            except BaseException as exc:
                failure = exc
                raise
            finally:
                end(tokens, context, failure)

        return rebuilt(handler, stream)

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        tokens = begin(request)
        failure: BaseException | None = None
        try:
            return await behavior(request, context)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            end(tokens, context, failure)

    return rebuilt(handler, unary)
