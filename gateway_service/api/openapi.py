"""The OpenAPI 3.1 description of each route, from the route table and the protos: its
parameters and bodies are the RPC's request fields, its answer the response message, its
errors problem details; every message's schema follows the proto3 JSON mapping."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor

from boletos.platform.access.roles import ACCESS
from gateway_service.api.routes import ROUTES, Kind, Route
from gateway_service.clients.services import method
from gateway_service.domain import proto_json
from gateway_service.domain.problems import MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `reason` is the services' ErrorInfo reason.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "reason": {"type": "string"},
        "grpcCode": {"type": "string"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "violations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "description": {"type": "string"}},
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_ERRORS = {
    "400": "The request is invalid (see violations)",
    "401": "No credential, or one not accepted",
    "403": "The credential's role may not do this",
    "404": "Nothing with that id (or not yours)",
    "429": "Too many requests; wait Retry-After seconds",
    "503": "A service did not answer",
}
FILE_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}
_STREAMED_MEDIA: dict[Kind, tuple[str, dict[str, str]]] = {
    Kind.EVENTS: ("text/event-stream", {"type": "string"}),
    Kind.REPORT: ("text/csv", {"type": "string"}),
    Kind.PDF: ("application/pdf", {"type": "string", "format": "binary"}),
    Kind.REMESSA: ("text/plain", {"type": "string"}),
}


def operation(route: Route) -> dict[str, Any]:
    """What FastAPI cannot infer from a handler that reads the raw request."""
    described = method(route.rpc)
    request = described.input_type
    roles = sorted(role.value for role in ACCESS[route.rpc].roles)
    extra: dict[str, Any] = {
        "operationId": route.operation_id,
        "description": f"Calls `{route.rpc.strip('/')}`. Roles: {', '.join(roles)}.",
        "parameters": _parameters(route, request),
        "responses": {
            str(route.status): {"description": "OK", "content": _answer(route, described)},
            **{
                code: {"description": text, "content": {MEDIA_TYPE: {"schema": _PROBLEM_REF}}}
                for code, text in _ERRORS.items()
            },
        },
    }
    if route.kind in (Kind.UPLOAD, Kind.RETORNO):
        extra["requestBody"] = FILE_BODY
    elif route.method != "GET" and _body_fields(route, request):
        extra["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": proto_json.ref(request)}},
        }
    return extra


def _answer(route: Route, described: Any) -> dict[str, Any]:
    if route.kind in _STREAMED_MEDIA:
        media, schema = _STREAMED_MEDIA[route.kind]
        return {media: {"schema": schema}}
    if route.kind is Kind.ROW_ERRORS:
        item = described.output_type.fields_by_name["row_errors"].message_type
        listed = {
            "type": "object",
            "properties": {"rowErrors": {"type": "array", "items": proto_json.ref(item)}},
        }
        return {"application/json": {"schema": listed}}
    return {"application/json": {"schema": proto_json.ref(described.output_type)}}


def _body_fields(route: Route, request: Descriptor) -> list[str]:
    return [f.name for f in request.fields if f.name not in route.path_params]


def _parameters(route: Route, request: Descriptor) -> list[dict[str, Any]]:
    found = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.path_params
    ]
    if route.kind is Kind.UPLOAD:
        return found + [
            _query("fileName", "The file's name, for reports (default: the form's)"),
            _query("beneficiary", "The beneficiary key the debts are owed to"),
            {
                "name": "Idempotency-Key",
                "in": "header",
                "schema": {"type": "string"},
                "description": "Sent again with the same key, the upload resumes or returns "
                "the earlier one",
            },
        ]
    if route.kind is Kind.RETORNO:
        return found + [_query("fileName", "The file's name as the bank delivered it")]
    if route.method != "GET":
        return found
    for described in request.fields:
        if described.name in route.path_params or described.message_type is not None:
            continue
        schema = proto_json.field_schema(described)
        found.append({"name": described.json_name, "in": "query", "schema": schema})
    return found


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": "string"}, "description": description}


def components() -> dict[str, Any]:
    roots = []
    for route in ROUTES:
        described = method(route.rpc)
        roots += [described.input_type, described.output_type]
    schemas = proto_json.schemas(roots)
    schemas["Problem"] = PROBLEM_SCHEMA
    return {
        "schemas": dict(sorted(schemas.items())),
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (bk_...) or a JWT from the deployment's identity "
                "provider, passed on to the services unchanged.",
            }
        },
    }
