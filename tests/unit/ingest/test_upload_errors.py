"""Each way an upload's stream can fail answers with its own status code and ErrorInfo reason;
clients and `boletos` branch on those, so they are pinned here one by one."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from ingest_service.api.upload_errors import (
    TABLE,
    BytesLost,
    HeaderRepeated,
    StreamIdle,
    StreamTooLong,
    answer,
    rejection,
)
from ingest_service.domain.errors import HeaderError

FAILURES = [
    pytest.param(
        StreamIdle("nothing arrived for 30s"),
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "UPLOAD_IDLE",
        id="idle",
    ),
    pytest.param(
        StreamTooLong("the upload took longer than 600s"),
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "UPLOAD_TOO_LONG",
        id="too long",
    ),
    pytest.param(BytesLost(100, 90), grpc.StatusCode.DATA_LOSS, "BYTES_LOST", id="bytes lost"),
    pytest.param(
        HeaderError("missing column(s): debtAmount"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "BAD_HEADER",
        id="bad csv header",
    ),
    pytest.param(
        HeaderRepeated(), grpc.StatusCode.INVALID_ARGUMENT, "HEADER_REPEATED", id="header again"
    ),
]


def _info(details: tuple[Message, ...]) -> error_details_pb2.ErrorInfo:
    info = details[0]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    return info


def _violation(details: tuple[Message, ...]) -> tuple[str, str]:
    (request,) = details[1:]
    assert isinstance(request, error_details_pb2.BadRequest)
    (violation,) = request.field_violations
    return violation.field, violation.description


@pytest.mark.parametrize(("error", "code", "reason"), FAILURES)
def test_each_failure_answers_with_its_code_and_reason(
    error: Exception, code: grpc.StatusCode, reason: str
) -> None:
    got = answer(error, "u-1", 7)
    assert got.code == code
    assert (_info(got.details).reason, _info(got.details).domain) == (reason, "boletos.v1")


def test_every_failure_the_table_knows_is_pinned_here() -> None:
    assert set(TABLE) == {type(param.values[0]) for param in FAILURES}


@pytest.mark.parametrize(
    "error",
    [StreamIdle("nothing arrived for 30s"), StreamTooLong("the upload took longer than 600s")],
)
def test_a_stalled_stream_names_the_upload_and_the_rows_it_keeps(error: Exception) -> None:
    got = answer(error, "u-1", 7)
    assert got.message == (
        f"upload u-1: {error}; the 7 rows received are kept, send the file again to complete it"
    )
    assert dict(_info(got.details).metadata) == {"upload_id": "u-1"}
    assert len(got.details) == 1
    assert rejection(error) == ""


def test_lost_bytes_carry_both_counts() -> None:
    got = answer(BytesLost(100, 90), "u-1", 7)
    assert got.message == (
        "upload u-1: the client sent 100 bytes but 90 arrived; whole rows were kept, "
        "send the file again"
    )
    assert dict(_info(got.details).metadata) == {
        "upload_id": "u-1",
        "sent": "100",
        "received": "90",
    }
    assert len(got.details) == 1
    assert rejection(BytesLost(100, 90)) == ""


def test_a_bad_csv_header_rejects_the_upload_and_names_the_fault() -> None:
    error = HeaderError("missing column(s): debtAmount")
    got = answer(error, "u-1", 0)
    assert got.message == "upload u-1 refused, bad header: missing column(s): debtAmount"
    assert dict(_info(got.details).metadata) == {"upload_id": "u-1"}
    assert _violation(got.details) == ("csv header", "missing column(s): debtAmount")
    assert rejection(error) == "bad header: missing column(s): debtAmount"


def test_a_second_header_names_the_field_at_fault_not_the_upload() -> None:
    got = answer(HeaderRepeated(), "u-1", 7)
    description = "after the header an upload carries only chunks, then one end message"
    assert got.message == f"header: {description}"
    assert dict(_info(got.details).metadata) == {"field": "header"}
    assert _violation(got.details) == ("header", description)
    assert rejection(HeaderRepeated()) == ""


def test_a_failure_answers_as_the_kind_it_derives_from() -> None:
    class Unreadable(HeaderError):
        pass

    got = answer(Unreadable("not UTF-8"), "u-1", 0)
    assert (got.code, _info(got.details).reason) == (grpc.StatusCode.INVALID_ARGUMENT, "BAD_HEADER")


def test_text_of_the_failure_is_not_read_as_a_template() -> None:
    error = HeaderError("unknown column(s): {rows}")
    assert answer(error, "u-1", 0).message.endswith("bad header: unknown column(s): {rows}")
    assert rejection(error) == "bad header: unknown column(s): {rows}"
