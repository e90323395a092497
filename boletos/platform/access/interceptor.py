"""The one gate every call of every service goes through.

For each call: find the method in the access table (a method not there is refused to all),
read `authorization: Bearer <credential>` (sent once: two are refused, rather than one
silently winning), turn it into a principal (an API key through the key directory, anything
else as a JWT when the service trusts an identity provider), check the principal's roles
against the table, and run the call with the principal bound (see principal.py). Calls the
table marks as audited leave one `audit` line: who, which RPC, which upload or debt, and the
outcome; never personal data.

A missing or bad credential is UNAUTHENTICATED with one message whatever was wrong, so the
answer tells a guesser nothing; a good credential without the role is PERMISSION_DENIED. Failed
key checks are limited per key id and per peer address (limits.py): past the limit the answer
is RESOURCE_EXHAUSTED with a RetryInfo, and no scrypt runs; failed tokens count against their
peer's limit. Streaming calls are bounded per credential and in total (open_streams.py), and
one is ended (UNAUTHENTICATED) when the key directory withdraws its key, within its reload
period, or when its token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, NoReturn

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2
from prometheus_client import Counter

from boletos.platform import errors
from boletos.platform.access import principal as calling
from boletos.platform.access.directory import KeyDirectory
from boletos.platform.access.keys import PREFIX, MalformedKey, parse
from boletos.platform.access.limits import Attempts, Throttled, peer_host
from boletos.platform.access.open_streams import Full, OpenStreams, StreamLimits
from boletos.platform.access.principal import Principal
from boletos.platform.access.roles import ACCESS, PUBLIC, Rule
from boletos.platform.access.tokens import TokenVerifier
from boletos.platform.logs import get_logger
from boletos.platform.rpc_handlers import behavior_of, finished_status, rebuilt

audit_log = get_logger("audit")
log = get_logger("access")

UNAUTHENTICATED_MESSAGE = "a valid credential is required: authorization: Bearer <key or token>"
SEVERAL_CREDENTIALS_MESSAGE = "send one authorization header, not several"
# A client refused a stream for the limits waits this long before trying again.
STREAMS_RETRY_SECONDS = 5
_LIMIT_WORDS = {"caller": "per credential", "total": "on this server"}
# Request fields an audit line names, when the request has them.
AUDITED_FIELDS = ("upload_id", "debt_id", "key_id")

REFUSED = Counter(
    "boletos_access_refused",
    "Calls refused by the access gate, by why: unauthenticated, permission_denied, "
    "throttled (too many failed credential checks), several_credentials, withdrawn (a "
    "stream whose key was revoked or token expired), too_many_streams.",
    ["reason"],
)

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
    def __init__(
        self,
        keys: KeyDirectory | None,
        tokens: TokenVerifier | None,
        attempts: Attempts | None = None,
    ) -> None:
        self.keys = keys
        self._tokens = tokens
        self._attempts = attempts or Attempts()

    async def principal(self, header: str, peer: str = "") -> Principal | Throttled | None:
        """Who `header` (an authorization value) stands for; None if nobody; Throttled when
        the key's id or the peer failed too often lately."""
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return None
        if credential.startswith(PREFIX + "_"):
            return await self._key(credential, peer)
        if self._tokens is None:
            return None
        tokens = self._tokens
        return await self._limited(None, peer, lambda: asyncio.to_thread(tokens.verify, credential))

    async def _key(self, key: str, peer: str) -> Principal | Throttled | None:
        if self.keys is None:
            return None
        remembered = self.keys.remembered(key)
        if remembered is not None:
            return remembered
        try:
            key_id, _ = parse(key)
        except MalformedKey:
            return None
        keys = self.keys
        return await self._limited(key_id, peer, lambda: keys.authenticate(key))

    async def _limited(
        self,
        key_id: str | None,
        peer: str,
        check: Callable[[], Awaitable[Principal | None]],
    ) -> Principal | Throttled | None:
        """Runs `check` unless the key id (API keys only) or the peer failed too often
        lately; a failure counts against both."""
        throttled = self._attempts.throttled(key_id, peer)
        if throttled is not None:
            return throttled
        who = await check()
        if who is None:
            named = {"key_id": key_id} if key_id else {}
            for limit in self._attempts.failed(key_id, peer):
                # Once per limit used up, not per refusal: the counter has those.
                log.warning("access.attempts_throttled", limit=limit, **named)
        return who


class AccessInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        authenticator: Authenticator,
        table: Mapping[str, Rule] = ACCESS,
        stream_limits: StreamLimits | None = None,
    ) -> None:
        self._authenticator = authenticator
        self._table = table
        self.streams = OpenStreams(stream_limits)
        if authenticator.keys is not None:
            authenticator.keys.on_withdrawn(self.streams.withdraw)

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
            return _refusal(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method} is not open",
                errors.error_info("METHOD_NOT_OPEN"),
            )
        headers = _authorization(details.invocation_metadata or ())
        if len(headers) > 1:
            REFUSED.labels("several_credentials").inc()
            return _refusal(
                handler,
                grpc.StatusCode.UNAUTHENTICATED,
                SEVERAL_CREDENTIALS_MESSAGE,
                errors.error_info("SEVERAL_CREDENTIALS"),
            )
        header = headers[0] if headers else ""

        async def admit(context: grpc.aio.ServicerContext) -> Principal:
            return await self._admit(header, method, rule, context)

        return _bound(handler, admit, method, rule.audited, self.streams)

    async def _admit(
        self, header: str, method: str, rule: Rule, context: grpc.aio.ServicerContext
    ) -> Principal:
        """The caller, or the call aborted with why not."""
        found = await self._authenticator.principal(header, peer_host(context.peer() or ""))
        if isinstance(found, Throttled):
            REFUSED.labels("throttled").inc()
            await _too_many_attempts(context, found)
        if found is None:
            REFUSED.labels("unauthenticated").inc()
            # One reason for every refused credential: which check failed would help a guesser.
            await errors.abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                UNAUTHENTICATED_MESSAGE,
                errors.error_info("CREDENTIAL_REFUSED"),
            )
        if not rule.allows(found.roles):
            REFUSED.labels("permission_denied").inc()
            if rule.audited:
                audit_log.info(
                    "audit", principal=found.id, rpc=_short(method), outcome="PERMISSION_DENIED"
                )
            held = ", ".join(sorted(found.roles)) or "none"
            await errors.abort(
                context,
                grpc.StatusCode.PERMISSION_DENIED,
                f"the credential's role ({held}) may not call {_short(method)}",
                errors.error_info("ROLE_NOT_ALLOWED", rpc=_short(method), roles=held),
            )
        return found


def _authorization(metadata: Sequence[tuple[str, Any]]) -> list[str]:
    return [v if isinstance(v, str) else "" for k, v in metadata if k.lower() == "authorization"]


async def _too_many_attempts(context: grpc.aio.ServicerContext, throttled: Throttled) -> NoReturn:
    wait = throttled.retry_after
    await errors.abort(
        context,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"too many failed credential checks; try again in {wait} s",
        errors.error_info(
            "TOO_MANY_FAILED_ATTEMPTS", limit=throttled.limit, retry_after_seconds=str(wait)
        ),
        error_details_pb2.RetryInfo(retry_delay=Duration(seconds=wait)),
    )


def _short(method: str) -> str:
    return method.rsplit(".", 1)[-1]


def _refusal(
    handler: grpc.RpcMethodHandler,
    code: grpc.StatusCode,
    message: str,
    reason: error_details_pb2.ErrorInfo,
) -> grpc.RpcMethodHandler:
    if handler.response_streaming:

        async def refuse_stream(
            request: Any, context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            await errors.abort(context, code, message, reason)
            yield  # pragma: no cover - abort raises

        return rebuilt(handler, refuse_stream)

    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await errors.abort(context, code, message, reason)

    return rebuilt(handler, refuse)


Admit = Callable[[grpc.aio.ServicerContext], Awaitable[Principal]]


def _bound(
    handler: grpc.RpcMethodHandler,
    admit: Admit,
    method: str,
    audited: bool,
    streams: OpenStreams,
) -> grpc.RpcMethodHandler:
    """`handler`, run only for an admitted caller, with the caller bound; a streaming call is
    watched, and ended if its key is withdrawn."""
    behavior = behavior_of(handler)
    streaming = handler.request_streaming or handler.response_streaming

    def begin(who: Principal, request: Any) -> tuple[Any, Any, dict[str, str]]:
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
        who: Principal,
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

    @contextlib.asynccontextmanager
    async def watched(who: Principal, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        if not streaming:
            yield
            return
        call = None
        try:
            with streams.watching(who) as call:
                yield
        except Full as full:
            REFUSED.labels("too_many_streams").inc()
            log.warning(
                "access.streams_full", principal=who.id, rpc=_short(method), limit=full.limit
            )
            await errors.abort(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many open streams ({full.allowed} {_LIMIT_WORDS[full.limit]}); "
                "close one or try again later",
                errors.error_info("TOO_MANY_STREAMS", limit=full.limit, allowed=str(full.allowed)),
                error_details_pb2.RetryInfo(retry_delay=Duration(seconds=STREAMS_RETRY_SECONDS)),
            )
        except asyncio.CancelledError:
            if call is None or not call.ended_because:
                raise
            # Ours, not the client's: the call ends with a status instead of vanishing.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            REFUSED.labels("withdrawn").inc()
            log.warning("access.stream_ended", principal=who.id, rpc=_short(method))
            await errors.abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                call.ended_because,
                errors.error_info("CREDENTIAL_EXPIRED"),
            )

    if handler.response_streaming:

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            who = await admit(context)
            tokens = begin(who, request)
            failure: BaseException | None = None
            try:
                async with watched(who, context):
                    async for response in behavior(request, context):
                        yield response
            except BaseException as exc:
                failure = exc
                raise
            finally:
                end(who, tokens, context, failure)

        return rebuilt(handler, stream)

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        who = await admit(context)
        tokens = begin(who, request)
        failure: BaseException | None = None
        try:
            async with watched(who, context):
                return await behavior(request, context)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            end(who, tokens, context, failure)

    return rebuilt(handler, unary)
