"""One handler per kind of route: each builds the RPC's request from the HTTP request, calls
the service with the caller's credential, and writes the answer as the route says. A failed
call raises grpc.aio.AioRpcError, which the app turns into problem details; a stream's first
message is awaited before the response starts, so a refusal still gets its status code."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from boletos.platform.errors import details_of
from boletos.report_columns import REPORT_CSV_HEADER, csv_row
from boletos.v1 import boleto_pb2, ingest_pb2
from gateway_service.api.file_body import BodyError, open_file
from gateway_service.api.routes import Kind, Route
from gateway_service.clients.services import Services, request_for
from gateway_service.domain import proto_json
from gateway_service.domain.problems import Problem, from_rpc, invalid_request

Handler = Callable[[Request], Awaitable[Response]]
# A JSON request body is a handful of fields; anything bigger is a mistake or an attack.
MAX_JSON_BYTES = 64 * 1024
# Personal data (names, CPFs, amounts) must not linger in shared caches.
PRIVATE = {"Cache-Control": "no-store"}


class ProblemRaised(Exception):
    """A request the gateway refuses itself, before or instead of calling a service."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def handler_for(route: Route, services: Services) -> Handler:
    kinds: dict[Kind, Callable[[Route, Services], Handler]] = {
        Kind.UNARY: _unary,
        Kind.UPLOAD: _upload,
        Kind.RETORNO: _retorno,
        Kind.EVENTS: _events,
        Kind.ROW_ERRORS: _row_errors,
        Kind.REPORT: _report,
        Kind.PDF: _pdf,
        Kind.REMESSA: _remessa,
    }
    return kinds[route.kind](route, services)


def _authorization(request: Request) -> str:
    return request.headers.get("authorization", "")


def _message(route: Route, request: Request) -> Message:
    """The RPC's request from the path and query parameters."""
    message = request_for(route.rpc)
    params: dict[str, str | list[str]] = {}
    for name in request.query_params:
        values = request.query_params.getlist(name)
        params[name] = values if len(values) > 1 else values[0]
    params.update(request.path_params)
    try:
        proto_json.from_params(message, params)
    except ValueError as exc:
        name = str(exc).split(":", 1)[0]
        raise ProblemRaised(invalid_request(name, str(exc).split(": ", 1)[-1])) from None
    return message


async def _with_body(message: Message, request: Request) -> None:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise ProblemRaised(
                Problem(413, "BODY_TOO_LARGE", f"a JSON body is at most {MAX_JSON_BYTES} bytes")
            )
    if not body.strip():
        return
    try:
        document = json.loads(body)
    except ValueError:
        raise ProblemRaised(invalid_request("body", "not JSON")) from None
    if not isinstance(document, dict):
        raise ProblemRaised(invalid_request("body", "must be a JSON object"))
    try:
        proto_json.from_json(message, document)
    except json_format.ParseError as exc:
        raise ProblemRaised(invalid_request("body", str(exc))) from None


def _unary(route: Route, services: Services) -> Handler:
    async def handle(request: Request) -> Response:
        message = _message(route, request)
        if route.method != "GET":
            await _with_body(message, request)
        answer = await services.unary(route.rpc, message, _authorization(request))
        return JSONResponse(proto_json.to_json(answer), route.status, headers=PRIVATE)

    return handle


def _file_stream(route: Route, services: Services, first: Callable[..., Message]) -> Handler:
    """A body streamed to a client-streaming RPC: `first(file_name, request)` is its opening
    message, then the file's bytes as chunks."""

    async def handle(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        try:
            body = await open_file(content_type, request.stream())
        except BodyError as exc:
            raise ProblemRaised(_body_problem(exc)) from None
        except ClientDisconnect:
            return Response(status_code=499)
        opening = first(body.name, request)
        broken: list[BaseException] = []

        async def messages() -> AsyncIterator[Message]:
            yield opening
            total = 0
            try:
                async for piece in body.pieces:
                    total += len(piece)
                    yield _chunk(route, piece)
            except (BodyError, ClientDisconnect) as exc:
                # Ending without the closing message: the service keeps nothing half-sent
                # as if it were whole.
                broken.append(exc)
                return
            closing = _closing(route, total)
            if closing is not None:
                yield closing

        try:
            answer = await services.client_stream(route.rpc, messages(), _authorization(request))
        except grpc.aio.AioRpcError:
            if broken and isinstance(broken[0], BodyError):
                raise ProblemRaised(_body_problem(broken[0])) from None
            raise
        document = proto_json.to_json(answer)
        headers = dict(PRIVATE)
        upload_id = document.get("summary", {}).get("uploadId")
        if route.kind is Kind.UPLOAD and upload_id:
            headers["Location"] = f"/v1/uploads/{upload_id}"
        return JSONResponse(document, route.status, headers=headers)

    return handle


def _body_problem(exc: BodyError) -> Problem:
    return Problem(exc.status, "INVALID_BODY", str(exc))


def _chunk(route: Route, piece: bytes) -> Message:
    if route.kind is Kind.UPLOAD:
        return ingest_pb2.UploadRequest(chunk=piece)
    return boleto_pb2.ProcessRetornoRequest(chunk=piece)


def _closing(route: Route, total: int) -> Message | None:
    if route.kind is Kind.UPLOAD:
        return ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=total))
    return None


def _upload_header(file_name: str, request: Request) -> Message:
    query = request.query_params
    header = ingest_pb2.UploadHeader(
        file_name=query.get("file_name") or query.get("fileName") or file_name or "upload.csv",
        # The IETF's Idempotency-Key header, or the field's own name as a parameter.
        client_request_id=request.headers.get("idempotency-key")
        or query.get("client_request_id")
        or query.get("clientRequestId")
        or "",
        beneficiary=query.get("beneficiary", ""),
    )
    return ingest_pb2.UploadRequest(header=header)


def _retorno_header(file_name: str, request: Request) -> Message:
    query = request.query_params
    name = query.get("file_name") or query.get("fileName") or file_name or "retorno.ret"
    return boleto_pb2.ProcessRetornoRequest(header=boleto_pb2.RetornoHeader(file_name=name))


def _upload(route: Route, services: Services) -> Handler:
    return _file_stream(route, services, _upload_header)


def _retorno(route: Route, services: Services) -> Handler:
    return _file_stream(route, services, _retorno_header)


async def _opened(
    route: Route, services: Services, request: Request
) -> tuple[grpc.aio.UnaryStreamCall, Any]:
    """The call and its first message (or EOF): a refusal raises before any byte is sent."""
    call = services.server_stream(route.rpc, _message(route, request), _authorization(request))
    try:
        first = await call.read()
    except BaseException:
        call.cancel()
        raise
    return call, first


async def _rest(call: grpc.aio.UnaryStreamCall, first: Any) -> AsyncIterator[Any]:
    """Every message of an opened call, the first included; cancels the call when the
    client goes away."""
    try:
        item = first
        while item is not grpc.aio.EOF:
            yield item
            item = await call.read()
    finally:
        call.cancel()


def _events(route: Route, services: Services) -> Handler:
    async def handle(request: Request) -> Response:
        call, first = await _opened(route, services, request)

        async def events() -> AsyncIterator[str]:
            try:
                async for item in _rest(call, first):
                    yield f"event: progress\ndata: {json.dumps(proto_json.to_json(item))}\n\n"
            except grpc.aio.AioRpcError as exc:
                problem = from_rpc(exc.code(), exc.details() or "", details_of(exc))
                yield f"event: problem\ndata: {json.dumps(problem.body())}\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={**PRIVATE, "X-Accel-Buffering": "no"},
        )

    return handle


def _row_errors(route: Route, services: Services) -> Handler:
    async def handle(request: Request) -> Response:
        call, first = await _opened(route, services, request)

        async def document() -> AsyncIterator[str]:
            yield '{"rowErrors":['
            separator = ""
            async for batch in _rest(call, first):
                for error in batch.row_errors:
                    yield separator + json.dumps(proto_json.to_json(error))
                    separator = ","
            yield "]}"

        return StreamingResponse(document(), media_type="application/json", headers=PRIVATE)

    return handle


def _report(route: Route, services: Services) -> Handler:
    async def handle(request: Request) -> Response:
        call, first = await _opened(route, services, request)

        async def lines() -> AsyncIterator[str]:
            sink = io.StringIO()
            writer = csv.writer(sink, lineterminator="\n")
            writer.writerow(REPORT_CSV_HEADER)
            async for batch in _rest(call, first):
                writer.writerows(csv_row(line) for line in batch.lines)
                yield sink.getvalue()
                sink.seek(0)
                sink.truncate()
            yield sink.getvalue()

        upload_id = request.path_params["upload_id"]
        return StreamingResponse(
            lines(),
            media_type="text/csv; charset=utf-8",
            headers={
                **PRIVATE,
                "Content-Disposition": _attachment(f"report-{upload_id}.csv"),
            },
        )

    return handle


def _pdf(route: Route, services: Services) -> Handler:
    async def handle(request: Request) -> Response:
        call, first = await _opened(route, services, request)

        async def chunks() -> AsyncIterator[bytes]:
            async for item in _rest(call, first):
                yield item.chunk

        debt_id = request.path_params["debt_id"]
        return StreamingResponse(
            chunks(),
            media_type="application/pdf",
            headers={
                **PRIVATE,
                "Content-Disposition": _attachment(f"boleto-{debt_id}.pdf", inline=True),
            },
        )

    return handle


def _remessa(route: Route, services: Services) -> Handler:
    async def handle(request: Request) -> Response:
        call, first = await _opened(route, services, request)
        name = first.remessa.file_name if first is not grpc.aio.EOF else "remessa.rem"

        async def chunks() -> AsyncIterator[bytes]:
            async for item in _rest(call, first):
                yield item.chunk

        return StreamingResponse(
            chunks(),
            # CNAB files are ASCII, in the banks' Latin-1 at most.
            media_type="text/plain; charset=iso-8859-1",
            headers={**PRIVATE, "Content-Disposition": _attachment(name)},
        )

    return handle


def _attachment(name: str, *, inline: bool = False) -> str:
    safe = "".join(c for c in name if c.isalnum() or c in "._-") or "download"
    return f'{"inline" if inline else "attachment"}; filename="{safe}"'
