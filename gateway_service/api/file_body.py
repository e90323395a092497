"""The file in an HTTP request's body, as it arrives: a raw body (`text/csv`,
`application/octet-stream`) or the `file` field of a `multipart/form-data` form (what
`curl -F file=@debts.csv` sends). Parsed incrementally, never buffered whole, so memory stays
flat whatever the file's size; the caller streams each piece on to the service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.multipart import MultipartParser, parse_options_header

FILE_FIELD = b"file"
# What a message to the service carries at most; smaller pieces are joined up to it.
PIECE_BYTES = 64 * 1024
RAW_TYPES = (b"text/csv", b"text/plain", b"application/octet-stream")


class BodyError(ValueError):
    """A body the gateway cannot take a file from; the message says why, for the caller."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FileBody:
    """`name` is the file name the form gave (empty for a raw body); known once `open()`
    has returned, before the first byte of content is read."""

    pieces: AsyncIterator[bytes]
    name: str = ""


async def open_file(content_type: str, body: AsyncIterator[bytes]) -> FileBody:
    kind, options = parse_options_header(content_type)
    if kind in RAW_TYPES or not kind:
        return FileBody(_joined(body))
    if kind == b"multipart/form-data":
        boundary = options.get(b"boundary")
        if not boundary:
            raise BodyError("multipart/form-data without a boundary")
        return await _form_file(boundary, body)
    raise BodyError(
        f"Content-Type {kind.decode('latin-1')!r}: send the file as text/csv or as the "
        "'file' field of a multipart/form-data form",
        status=415,
    )


async def _joined(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    pending = bytearray()
    async for chunk in body:
        pending += chunk
        while len(pending) >= PIECE_BYTES:
            yield bytes(pending[:PIECE_BYTES])
            del pending[:PIECE_BYTES]
    if pending:
        yield bytes(pending)


class _Form:
    """Collects what the parser's callbacks report for one fed chunk."""

    def __init__(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.in_file = False
        self.file_seen = False
        self.file_name = ""
        self.data = bytearray()
        self.ended = False

    def on_part_begin(self) -> None:
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.in_file = options.get(b"name") == FILE_FIELD and not self.file_seen
        if self.in_file:
            self.file_seen = True
            self.file_name = options.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.data += data[start:end]

    def on_part_end(self) -> None:
        self.in_file = False

    def on_end(self) -> None:
        self.ended = True


async def _form_file(boundary: bytes, body: AsyncIterator[bytes]) -> FileBody:
    form = _Form()
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": form.on_part_begin,
            "on_header_field": form.on_header_field,
            "on_header_value": form.on_header_value,
            "on_header_end": form.on_header_end,
            "on_headers_finished": form.on_headers_finished,
            "on_part_data": form.on_part_data,
            "on_part_end": form.on_part_end,
            "on_end": form.on_end,
        },
    )
    chunks = aiter(body)
    # Up to the file field's headers: its name goes in the upload's first message.
    async for chunk in chunks:
        _feed(parser, chunk)
        if form.file_seen:
            break
    if not form.file_seen:
        raise BodyError("the form has no 'file' field")

    async def pieces() -> AsyncIterator[bytes]:
        async for chunk in chunks:
            if len(form.data) >= PIECE_BYTES:
                yield bytes(form.data)
                form.data.clear()
            _feed(parser, chunk)
        if not form.ended:
            raise BodyError("the form ended before its closing boundary")
        if form.data:
            yield bytes(form.data)
            form.data.clear()

    return FileBody(_joined(pieces()), form.file_name)


def _feed(parser: MultipartParser, chunk: bytes) -> None:
    try:
        parser.write(chunk)
    except Exception as exc:  # noqa: BLE001 - the parser raises several kinds for bad input
        raise BodyError(f"malformed multipart/form-data: {type(exc).__name__}") from None
