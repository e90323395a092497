"""Errors a servicer answers with, carrying google.rpc details as well as a message.

The message is for people; the details are for programs, which read them from the
`grpc-status-details-bin` trailer (grpcurl prints them, `grpc_status.rpc_status.from_call`
decodes them in Python). Every error carries an ErrorInfo whose `reason` is a stable
UPPER_SNAKE_CASE code in the `boletos.v1` domain, plus the detail that fits the code:
BadRequest for a bad field, ResourceInfo for something not found, PreconditionFailure for a
state that forbids the call. Details never carry personal data (names, ids of people,
e-mail addresses): ids of uploads and debts only.
"""

from __future__ import annotations

from typing import NoReturn

import grpc
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "boletos.v1"


def error_info(reason: str, **metadata: str) -> error_details_pb2.ErrorInfo:
    return error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)


def bad_request(field: str, description: str) -> error_details_pb2.BadRequest:
    violation = error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
    return error_details_pb2.BadRequest(field_violations=[violation])


def status_with(code: grpc.StatusCode, message: str, *details: Message) -> grpc.Status:
    status = status_pb2.Status(code=_code_number(code), message=message)
    for detail in details:
        status.details.add().Pack(detail)
    return rpc_status.to_status(status)


async def abort(
    context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str, *details: Message
) -> NoReturn:
    status = status_with(code, message, *details)
    await context.abort(status.code, status.details, status.trailing_metadata)
    raise AssertionError("abort returns only by raising")  # for type checkers


async def invalid_argument(
    context: grpc.aio.ServicerContext, field: str, description: str, reason: str = "INVALID_FIELD"
) -> NoReturn:
    await abort(
        context,
        grpc.StatusCode.INVALID_ARGUMENT,
        f"{field}: {description}",
        error_info(reason, field=field),
        bad_request(field, description),
    )


async def not_found(
    context: grpc.aio.ServicerContext,
    resource_type: str,
    name: str,
    message: str,
    reason: str,
    **metadata: str,
) -> NoReturn:
    await abort(
        context,
        grpc.StatusCode.NOT_FOUND,
        message,
        error_info(reason, **{resource_type: name}, **metadata),
        error_details_pb2.ResourceInfo(
            resource_type=f"{DOMAIN}.{resource_type}", resource_name=name, description=message
        ),
    )


async def failed_precondition(
    context: grpc.aio.ServicerContext,
    reason: str,
    subject: str,
    message: str,
    **metadata: str,
) -> NoReturn:
    violation = error_details_pb2.PreconditionFailure.Violation(
        type=reason, subject=subject, description=message
    )
    await abort(
        context,
        grpc.StatusCode.FAILED_PRECONDITION,
        message,
        error_info(reason, **metadata),
        error_details_pb2.PreconditionFailure(violations=[violation]),
    )


def details_of(error: grpc.aio.AioRpcError) -> list[Message]:
    """The google.rpc details a failed call carried, decoded; empty when it had none."""
    try:
        status = rpc_status.from_call(error)
    except ValueError:
        return []
    if status is None:
        return []
    decoded: list[Message] = []
    for packed in status.details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.ResourceInfo,
            error_details_pb2.PreconditionFailure,
            error_details_pb2.RetryInfo,
        ):
            if packed.Is(kind.DESCRIPTOR):
                detail = kind()
                packed.Unpack(detail)
                decoded.append(detail)
    return decoded


def _code_number(code: grpc.StatusCode) -> int:
    number = code.value[0]
    assert code_pb2.Code.Name(number), code  # the same numbering as google.rpc.Code
    return int(number)
