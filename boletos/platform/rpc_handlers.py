"""What the server interceptors share: a handler rebuilt around a wrapped behaviour, of the
same kind as the original, and the status a finished call ended with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc


def behavior_of(handler: grpc.RpcMethodHandler) -> Callable[..., Any]:
    return (
        handler.stream_stream or handler.stream_unary or handler.unary_stream or handler.unary_unary
    )


def rebuilt(handler: grpc.RpcMethodHandler, behavior: Callable[..., Any]) -> grpc.RpcMethodHandler:
    """`handler` with `behavior` in place of its own."""
    if handler.request_streaming and handler.response_streaming:
        kind = grpc.stream_stream_rpc_method_handler
    elif handler.request_streaming:
        kind = grpc.stream_unary_rpc_method_handler
    elif handler.response_streaming:
        kind = grpc.unary_stream_rpc_method_handler
    else:
        kind = grpc.unary_unary_rpc_method_handler
    return kind(
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def finished_status(context: Any, failure: BaseException | None) -> str:
    """The status name a call ended with, from its context and what its behaviour raised."""
    if isinstance(failure, asyncio.CancelledError | GeneratorExit):
        return grpc.StatusCode.CANCELLED.name
    code = context.code()
    if isinstance(code, int):  # grpc.aio reports a code set by abort() as its number
        code = next((c for c in grpc.StatusCode if c.value[0] == code), None)
    if isinstance(code, grpc.StatusCode) and code != grpc.StatusCode.OK:
        return code.name
    if failure is not None and not isinstance(failure, grpc.aio.AbortError):
        return grpc.StatusCode.UNKNOWN.name  # what grpc answers for an unhandled exception
    return grpc.StatusCode.OK.name
