"""How an upload under way ends when its stream fails, and what the client is told.

One row per failure: the status code, the ErrorInfo reason, the message, the facts the
ErrorInfo carries, and whether the upload keeps the whole rows it received (interrupted:
sending the file again completes it) or is rejected. Messages and metadata are templates over
the facts of the failure: `upload_id`, `rows` (kept), `error` (the error's text), `field` and
the error's own attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.protobuf.message import Message

from boletos.platform import errors
from ingest_service.domain.errors import HeaderError


class StreamIdle(Exception):
    """The client stopped sending for longer than the idle timeout."""


class StreamTooLong(Exception):
    """The upload outlasted its deadline: a stream held open costs a slot and a transaction."""


class BytesLost(Exception):
    """The end message counts other bytes than arrived."""

    def __init__(self, sent: int, received: int) -> None:
        super().__init__(f"the client sent {sent} bytes but {received} arrived")
        self.sent = sent
        self.received = received


class HeaderRepeated(Exception):
    """A header (or anything but a chunk or the end) came after the header."""

    def __init__(self) -> None:
        super().__init__("after the header an upload carries only chunks, then one end message")


@dataclass(frozen=True, slots=True)
class Row:
    code: grpc.StatusCode
    reason: str
    message: str
    metadata: tuple[str, ...] = ("upload_id",)
    # Names the request field at fault, answered with a BadRequest as well.
    field: str = ""
    # The upload is rejected with this reason; when empty it is interrupted, its rows kept.
    rejected_as: str = ""
    # Whether its end is logged as upload.interrupted or upload.rejected.
    logged: bool = False


_ROWS_KEPT = "the {rows} rows received are kept, send the file again to complete it"

TABLE: dict[type[Exception], Row] = {
    StreamIdle: Row(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "UPLOAD_IDLE",
        "upload {upload_id}: {error}; " + _ROWS_KEPT,
        logged=True,
    ),
    StreamTooLong: Row(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "UPLOAD_TOO_LONG",
        "upload {upload_id}: {error}; " + _ROWS_KEPT,
        logged=True,
    ),
    BytesLost: Row(
        grpc.StatusCode.DATA_LOSS,
        "BYTES_LOST",
        "upload {upload_id}: {error}; whole rows were kept, send the file again",
        metadata=("upload_id", "sent", "received"),
    ),
    HeaderError: Row(
        grpc.StatusCode.INVALID_ARGUMENT,
        "BAD_HEADER",
        "upload {upload_id} refused, bad header: {error}",
        field="csv header",
        rejected_as="bad header: {error}",
        logged=True,
    ),
    HeaderRepeated: Row(
        grpc.StatusCode.INVALID_ARGUMENT,
        "HEADER_REPEATED",
        "{field}: {error}",
        metadata=("field",),
        field="header",
    ),
}
FAILURES = tuple(TABLE)


@dataclass(frozen=True, slots=True)
class Answer:
    code: grpc.StatusCode
    message: str
    details: tuple[Message, ...]


def row_for(error: Exception) -> Row:
    for kind in type(error).__mro__:
        if kind in TABLE:
            return TABLE[kind]
    raise KeyError(type(error).__name__)


def rejection(error: Exception) -> str:
    """The reason the upload is rejected with, or "" when it keeps its rows."""
    return row_for(error).rejected_as.format(error=error)


def answer(error: Exception, upload_id: str, rows: int) -> Answer:
    """The status for `error`, once the upload it ended keeps `rows` rows."""
    row = row_for(error)
    facts = {
        **{name: str(value) for name, value in vars(error).items()},
        "upload_id": upload_id,
        "rows": str(rows),
        "error": str(error),
        "field": row.field,
    }
    details: list[Message] = [
        errors.error_info(row.reason, **{name: facts[name] for name in row.metadata})
    ]
    if row.field:
        details.append(errors.bad_request(row.field, str(error)))
    return Answer(row.code, row.message.format(**facts), tuple(details))
