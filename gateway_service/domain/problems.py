"""A failed call as an RFC 9457 problem details document: the HTTP status that fits the gRPC
code, the service's message, and the google.rpc details a program acts on (the ErrorInfo
reason, BadRequest's field violations, the wait RetryInfo asks for), under the same names the
API reference lists. Pure: it reads what the services answered, nothing else."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2

MEDIA_TYPE = "application/problem+json"
# Problem types are named, not located: one per reason, listed in docs/api-reference.md.
TYPE_PREFIX = "urn:boletos:problem:"

# google.rpc.Code to HTTP, as google.rpc's own code.proto documents it.
HTTP_STATUS = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    499: "Client Closed Request",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Problem:
    status: int
    reason: str
    detail: str
    code: str = ""  # the gRPC status code's name, when a service answered
    metadata: dict[str, str] = field(default_factory=dict)
    violations: tuple[tuple[str, str], ...] = ()  # (field, description)
    retry_after_seconds: int | None = None

    def body(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": TYPE_PREFIX + self.reason if self.reason else "about:blank",
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
        }
        if self.reason:
            document["reason"] = self.reason
        if self.code:
            document["grpcCode"] = self.code
        if self.metadata:
            document["metadata"] = dict(sorted(self.metadata.items()))
        if self.violations:
            document["violations"] = [{"field": f, "description": d} for f, d in self.violations]
        return document

    def headers(self) -> dict[str, str]:
        found = {}
        if self.retry_after_seconds is not None:
            found["Retry-After"] = str(self.retry_after_seconds)
        if self.status == 401:
            # RFC 6750: how the client should authenticate.
            found["WWW-Authenticate"] = 'Bearer realm="boletos"'
        return found


def from_rpc(code: grpc.StatusCode, message: str, details: Sequence[Message]) -> Problem:
    """The problem a failed call's status and details describe."""
    reason = ""
    metadata: dict[str, str] = {}
    violations: list[tuple[str, str]] = []
    retry: int | None = None
    for detail in details:
        if isinstance(detail, error_details_pb2.ErrorInfo) and not reason:
            reason, metadata = detail.reason, dict(detail.metadata)
        elif isinstance(detail, error_details_pb2.BadRequest):
            violations.extend((v.field, v.description) for v in detail.field_violations)
        elif isinstance(detail, error_details_pb2.RetryInfo):
            delay = detail.retry_delay
            retry = max(1, math.ceil(delay.seconds + delay.nanos / 1e9))
    status = HTTP_STATUS.get(code, 500)
    if not reason and code == grpc.StatusCode.UNAVAILABLE:
        # The channel's own failure, before any service answered.
        reason, message = "SERVICE_UNAVAILABLE", "a service the gateway calls did not answer"
    return Problem(
        status=status,
        reason=reason,
        detail=message,
        code=code.name,
        metadata=metadata,
        violations=tuple(violations),
        retry_after_seconds=retry,
    )


def invalid_request(field_name: str, description: str) -> Problem:
    """A request the gateway refuses before calling any service (a body that is not JSON,
    a query value of the wrong type): the same shape as the services' INVALID_FIELD."""
    return Problem(
        status=400,
        reason="INVALID_FIELD",
        detail=f"{field_name}: {description}",
        metadata={"field": field_name},
        violations=((field_name, description),),
    )
