from __future__ import annotations

import email
from base64 import encodebytes
from email.policy import default

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer_service.domain.mime import (
    ALTERNATIVE_BOUNDARY,
    MIXED_BOUNDARY,
    _base64,
    render_message,
)


def _render(headers: list[tuple[str, str]], name: str = "boleto-1.pdf") -> bytes:
    return render_message(headers, "Olá\n", "<p>Olá</p>\n", name, b"%PDF-1.4\n")


def test_boundaries_are_declared_and_closed() -> None:
    data = _render([("Subject", "x")])
    assert f'boundary="{MIXED_BOUNDARY}"'.encode() in data
    assert f'boundary="{ALTERNATIVE_BOUNDARY}"'.encode() in data
    assert data.endswith(f"--{MIXED_BOUNDARY}--\r\n".encode())
    assert f"--{ALTERNATIVE_BOUNDARY}--\r\n".encode() in data
    message = email.message_from_bytes(data, policy=default)
    assert message["Subject"] == "x"
    assert not any(part.defects for part in message.walk())


@pytest.mark.parametrize("name", ['a".pdf', "a\r\nb.pdf", "", "../x.pdf", "x y.pdf", "é.pdf"])
def test_unsafe_attachment_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="file name"):
        _render([], name)


def test_unsafe_header_values_are_refused() -> None:
    with pytest.raises(ValueError, match="unsafe"):
        _render([("Subject", "x\r\nBcc: evil@example.com")])


@given(st.binary(max_size=2_000))
def test_base64_bodies_are_encodebytes_lines_ended_by_crlf(data: bytes) -> None:
    assert _base64(data) == encodebytes(data).replace(b"\n", b"\r\n")
