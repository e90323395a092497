"""Writes the one MIME shape a boleto e-mail has, straight to CRLF-terminated bytes.

multipart/mixed
  multipart/alternative
    text/plain (utf-8, base64)
    text/html (utf-8, base64)
  application/pdf attachment (base64)

or, for a message without attachment (a payment receipt), the multipart/alternative alone.

The shape never changes, so it is written directly instead of through email.mime, whose
generator re-parses and re-folds every header: with policy=SMTP that composed about 1,000
messages/s on one core (2,300/s with compat32 and LF endings); this path composes over
10,000/s. Every body is base64, whose alphabet has no '_' and none of whose lines starts
with '-', so the fixed boundaries below cannot occur in any content.
"""

from __future__ import annotations

import re
from binascii import b2a_base64
from collections.abc import Iterable

from .headers import header_line

MIXED_BOUNDARY = "=_boleto_mixed"
ALTERNATIVE_BOUNDARY = "=_boleto_alternative"

_MIXED = f"--{MIXED_BOUNDARY}\r\n".encode("ascii")
_ALTERNATIVE = f"--{ALTERNATIVE_BOUNDARY}\r\n".encode("ascii")
_BASE64_TEXT = (
    'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
)
_OPENING = (
    "MIME-Version: 1.0\r\n"
    f'Content-Type: multipart/mixed; boundary="{MIXED_BOUNDARY}"\r\n'
    "\r\n"
    f"--{MIXED_BOUNDARY}\r\n"
    f'Content-Type: multipart/alternative; boundary="{ALTERNATIVE_BOUNDARY}"\r\n'
    "\r\n"
    f"--{ALTERNATIVE_BOUNDARY}\r\n" + _BASE64_TEXT.format(subtype="plain")
).encode("ascii")
_HTML_PART = _ALTERNATIVE + _BASE64_TEXT.format(subtype="html").encode("ascii")
_ALTERNATIVES_END = f"--{ALTERNATIVE_BOUNDARY}--\r\n\r\n".encode("ascii") + _MIXED
_CLOSING = f"--{MIXED_BOUNDARY}--\r\n".encode("ascii")
_ALTERNATIVE_OPENING = (
    "MIME-Version: 1.0\r\n"
    f'Content-Type: multipart/alternative; boundary="{ALTERNATIVE_BOUNDARY}"\r\n'
    "\r\n"
    f"--{ALTERNATIVE_BOUNDARY}\r\n" + _BASE64_TEXT.format(subtype="plain")
).encode("ascii")
_ALTERNATIVE_CLOSING = f"--{ALTERNATIVE_BOUNDARY}--\r\n".encode("ascii")
# Written into quoted parameters unescaped, so nothing that needs escaping may pass.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")


def _base64(data: bytes) -> bytes:
    """Lines of 76 characters, the limit RFC 2045 sets, each ended by CRLF: what
    base64.encodebytes writes with LF, without its call per 57 bytes and a pass to replace
    the line ends."""
    encoded = b2a_base64(data, newline=False)
    if not encoded:
        return b""
    lines = [encoded[i : i + _BASE64_LINE] for i in range(0, len(encoded), _BASE64_LINE)]
    return b"\r\n".join(lines) + b"\r\n"


_BASE64_LINE = 76


def _text(text: str) -> bytes:
    # RFC 2046: text/* in canonical form has CRLF line breaks, also inside base64.
    return _base64(text.replace("\n", "\r\n").encode("utf-8"))


def _attachment_headers(file_name: str) -> bytes:
    if not _FILE_NAME.fullmatch(file_name):
        raise ValueError(f"unsafe attachment file name {file_name!r}")
    return (
        f'Content-Type: application/pdf;\r\n name="{file_name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment;\r\n filename="{file_name}"\r\n'
        "\r\n"
    ).encode("ascii")


def render_message(
    headers: Iterable[tuple[str, str]],
    text: str,
    html: str,
    attachment_name: str | None,
    attachment: bytes | None,
) -> bytes:
    """The whole message. Header values must come encoded (see headers.py); the MIME and
    Content-* headers are added here. `attachment_name` is a plain name like 'boleto-1.pdf';
    with no attachment the message is the text and HTML alternatives alone.
    """
    if attachment is None or attachment_name is None:
        return b"".join(
            (
                *(header_line(name, value) for name, value in headers),
                _ALTERNATIVE_OPENING,
                _text(text),
                _HTML_PART,
                _text(html),
                _ALTERNATIVE_CLOSING,
            )
        )
    return b"".join(
        (
            *(header_line(name, value) for name, value in headers),
            _OPENING,
            _text(text),
            _HTML_PART,
            _text(html),
            _ALTERNATIVES_END,
            _attachment_headers(attachment_name),
            _base64(attachment),
            _CLOSING,
        )
    )
