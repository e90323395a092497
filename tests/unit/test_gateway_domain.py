"""The gateway's pure parts: gRPC failures as problem details, HTTP parameters and bodies
into request messages, messages as JSON Schemas, and a file read from a streamed form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.rpc import error_details_pb2

from boletos.platform.errors import bad_request, error_info
from boletos.v1 import boleto_pb2, ingest_pb2, mailer_pb2
from gateway_service.api.file_body import PIECE_BYTES, BodyError, open_file
from gateway_service.domain import problems, proto_json


def test_every_grpc_code_but_ok_has_an_http_status() -> None:
    assert set(problems.HTTP_STATUS) == set(grpc.StatusCode) - {grpc.StatusCode.OK}
    assert set(problems.HTTP_STATUS.values()) <= set(problems.TITLES)


def test_a_refusal_keeps_its_reason_fields_and_wait() -> None:
    problem = problems.from_rpc(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "slow down",
        [
            error_info("TOO_MANY_STREAMS", limit="caller"),
            bad_request("page_size", "too big"),
            error_details_pb2.RetryInfo(retry_delay=Duration(seconds=2, nanos=100)),
        ],
    )
    assert problem.body() == {
        "type": "urn:boletos:problem:TOO_MANY_STREAMS",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "slow down",
        "reason": "TOO_MANY_STREAMS",
        "grpcCode": "RESOURCE_EXHAUSTED",
        "metadata": {"limit": "caller"},
        "violations": [{"field": "page_size", "description": "too big"}],
    }
    assert problem.headers() == {"Retry-After": "3"}


def test_an_unanswered_call_names_the_service_not_the_transport() -> None:
    problem = problems.from_rpc(grpc.StatusCode.UNAVAILABLE, "failed to connect to all", [])
    assert (problem.status, problem.reason) == (503, "SERVICE_UNAVAILABLE")
    assert "connect" not in problem.detail


def test_parameters_fill_fields_by_json_or_proto_name_with_their_types() -> None:
    request = mailer_pb2.ListDeliveriesRequest()
    proto_json.from_params(
        request, {"uploadId": "u", "page_size": "5", "status": "DELIVERY_STATUS_FAILED"}
    )
    assert (request.upload_id, request.page_size) == ("u", 5)
    assert request.status == mailer_pb2.DELIVERY_STATUS_FAILED
    flags = mailer_pb2.RetryFailedRequest()
    proto_json.from_params(flags, {"includeUncertain": "true"})
    assert flags.include_uncertain


@pytest.mark.parametrize(
    ("request_type", "params", "named"),
    [
        (mailer_pb2.ListDeliveriesRequest, {"pageSize": "many"}, "pageSize"),
        (mailer_pb2.ListDeliveriesRequest, {"colour": "red"}, "colour"),
        (mailer_pb2.ListDeliveriesRequest, {"uploadId": ["a", "b"]}, "uploadId"),
        (mailer_pb2.ListDeliveriesRequest, {"status": "NOT_A_STATUS"}, "NOT_A_STATUS"),
        (mailer_pb2.RetryFailedRequest, {"includeUncertain": "yes"}, "includeUncertain"),
    ],
)
def test_a_parameter_that_fits_no_field_is_named(
    request_type: type, params: dict[str, str | list[str]], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        proto_json.from_params(request_type(), params)


def test_json_follows_the_proto3_mapping_defaults_included() -> None:
    summary = ingest_pb2.UploadSummary(upload_id="u", accepted=3)
    document = proto_json.to_json(summary)
    assert document["accepted"] == "3"  # 64-bit integers as strings
    assert document["rejected"] == "0"
    assert document["state"] == "UPLOAD_STATE_UNSPECIFIED"


def test_schemas_cover_nested_messages_and_follow_the_mapping() -> None:
    found = proto_json.schemas([boleto_pb2.DESCRIPTOR.message_types_by_name["GetBoletoResponse"]])
    boleto = found["boletos.v1.Boleto"]["properties"]
    assert boleto["amountCents"] == {"type": "string", "format": "int64"}
    assert boleto["issuedAt"] == {"type": "string", "format": "date-time"}
    assert "BANK_STATUS_UNSPECIFIED" in boleto["bankStatus"]["enum"]
    assert found["boletos.v1.GetBoletoResponse"]["properties"]["boleto"] == {
        "$ref": "#/components/schemas/boletos.v1.Boleto"
    }


async def _arriving(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
        await asyncio.sleep(0)


def _form(content: bytes, boundary: str = "XyZ") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="d.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


async def _read(content_type: str, body: bytes, size: int) -> tuple[str, list[bytes]]:
    opened = await open_file(content_type, _arriving(body, size))
    return opened.name, [piece async for piece in opened.pieces]


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
async def test_a_form_file_comes_out_whole_however_the_body_arrives(size: int) -> None:
    content = b"name,governmentId\r\n" + bytes(range(256)) * 600 + b"--XyZ not the end\r\n"
    name, pieces = await _read("multipart/form-data; boundary=XyZ", _form(content), size)
    assert name == "d.csv"
    assert b"".join(pieces) == content
    assert all(len(p) <= PIECE_BYTES for p in pieces)


async def test_a_raw_body_is_the_file_in_pieces() -> None:
    content = b"x" * (PIECE_BYTES * 2 + 5)
    name, pieces = await _read("text/csv", content, 1000)
    assert name == ""
    assert [len(p) for p in pieces] == [PIECE_BYTES, PIECE_BYTES, 5]


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("image/png", b"x", 415),
        ("multipart/form-data", b"x", 400),
        ("multipart/form-data; boundary=XyZ", b"--XyZ\r\nContent-Disposition: form-data; "
         b"name=\"other\"\r\n\r\nv\r\n--XyZ--\r\n", 400),
    ],
)  # fmt: skip
async def test_a_body_without_a_file_is_refused_with_why(
    content_type: str, body: bytes, status: int
) -> None:
    with pytest.raises(BodyError) as refused:
        await _read(content_type, body, 64)
    assert refused.value.status == status


async def test_a_form_cut_before_its_end_is_refused() -> None:
    cut = _form(b"a,b\n" * 100)[:-20]
    opened = await open_file("multipart/form-data; boundary=XyZ", _arriving(cut, 50))
    with pytest.raises(BodyError, match="closing boundary"):
        _ = [piece async for piece in opened.pieces]


def test_money_dates_and_cnpj_as_a_brazilian_reads_them() -> None:
    from gateway_service.domain import brazil

    assert brazil.reais(123456) == "R$ 1.234,56"
    assert brazil.reais(5) == "R$ 0,05"
    assert brazil.reais(100_000_000) == "R$ 1.000.000,00"
    assert brazil.day("2026-12-05") == "05/12/2026"
    assert brazil.cnpj("11222333000181") == "11.222.333/0001-81"


def test_a_rate_limit_lets_a_person_through_and_slows_a_script() -> None:
    from gateway_service.domain.rate_limit import RateLimit

    limit = RateLimit(per_minute=30, burst=3)
    assert [limit.wait("a", 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.wait("a", 0.0) == pytest.approx(2.0)
    assert limit.wait("b", 0.0) == 0.0  # another address has its own bucket
    assert limit.wait("a", 2.0) == 0.0  # one token back after 2 s at 30 a minute


def test_a_qr_code_is_one_small_path_with_its_quiet_zone() -> None:
    from gateway_service.domain.qr_svg import QUIET_ZONE, qr_svg

    svg = qr_svg("00020126580014BR.GOV.BCB.PIX0136abc", label="QR code Pix")
    assert svg.startswith("<svg") and svg.count("<path") == 1
    assert 'aria-label="QR code Pix"' in svg
    size = int(svg.split('viewBox="0 0 ')[1].split()[0])
    assert (size - 2 * QUIET_ZONE) % 4 == 1  # a QR code is 4v+17 modules wide
    assert len(svg) < 20_000


def test_a_console_session_opens_only_as_sealed_and_within_its_life() -> None:
    from gateway_service.domain.sessions import Sessions, csrf_matches

    sessions = Sessions(Sessions.new_key(), lifetime_seconds=3600)
    cookie, made = sessions.seal("bk_secret", "Ana", now=1_000)
    assert "bk_secret" not in cookie and "Ana" not in cookie
    assert sessions.open(cookie, now=1_000 + 3599) == made
    assert sessions.open(cookie, now=1_000 + 3601) is None
    altered = cookie[:-5] + ("A" if cookie[-5] != "A" else "B") + cookie[-4:]
    assert sessions.open(altered, now=1_000) is None
    assert Sessions(Sessions.new_key(), 3600).open(cookie, now=1_000) is None
    assert sessions.open("", now=1_000) is None
    assert csrf_matches(made, made.csrf)
    assert not csrf_matches(made, "") and not csrf_matches(made, made.csrf[:-1])


def test_an_address_is_masked_as_the_console_shows_it() -> None:
    from gateway_service.api.console import masked_email

    assert masked_email("lisa@example.com") == "l***@example.com"
    assert masked_email("not-an-address") == "***"
