"""Turns a stream of byte chunks into blocks of whole lines, numbered as in the file.

Chunks may cut a line anywhere; a block always ends on a line boundary, so the rest of the
pipeline never sees half a row. A line that grows past the limit without ending is dropped
as it streams in (only its number is kept), so a hostile file cannot make the service
buffer without bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest_service.domain.header import UTF8_BOM

DEFAULT_BLOCK_BYTES = 1 << 20
DEFAULT_MAX_LINE_BYTES = 16 << 10


@dataclass(frozen=True, slots=True)
class Block:
    """Whole lines; the first is line `first_line` of the file. Ends with a newline unless it
    is the file's unterminated last line."""

    first_line: int
    data: bytes


@dataclass(frozen=True, slots=True)
class OversizedLine:
    line: int
    size: int


class LineAssembler:
    def __init__(
        self,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self._block_bytes = block_bytes
        self._max_line = max_line_bytes
        self._buf = bytearray()
        self._next_line = 1  # number of the first line held in _buf
        self._skipped = 0  # bytes dropped of an oversized line; 0 when not skipping
        self._header: bytes | None = None
        self._at_start = True
        self.bytes_received = 0

    @property
    def header(self) -> bytes | None:
        """The first line, once complete, without its line ending or a UTF-8 BOM."""
        return self._header

    def feed(self, chunk: bytes) -> list[Block | OversizedLine]:
        self.bytes_received += len(chunk)
        out: list[Block | OversizedLine] = []
        if self._skipped:
            end = chunk.find(b"\n")
            if end < 0:
                self._skipped += len(chunk)
                return out
            out.append(OversizedLine(self._next_line, self._skipped + end))
            self._next_line += 1
            self._skipped = 0
            chunk = chunk[end + 1 :]
        self._buf += chunk
        if self._at_start and not self._take_header():
            self._guard_line_length(out)
            return out
        last_newline = self._buf.rfind(b"\n")
        if last_newline + 1 >= self._block_bytes:
            out.append(self._cut(last_newline + 1))
        self._guard_line_length(out)
        return out

    def finish(self) -> list[Block | OversizedLine]:
        """The rest of the file after a normal end of stream: its last line may lack a newline."""
        out: list[Block | OversizedLine] = []
        if self._skipped:
            out.append(OversizedLine(self._next_line, self._skipped))
            self._skipped = 0
            self._next_line += 1
        if self._at_start:
            if self._buf:
                self._header = _strip_header(bytes(self._buf))
                self._buf.clear()
                self._at_start = False
            return out
        if self._buf:
            out.append(self._cut(len(self._buf)))
        return out

    def abandon(self) -> list[Block | OversizedLine]:
        """The rest of the file after the stream broke: only whole lines are kept."""
        out: list[Block | OversizedLine] = []
        self._skipped = 0
        if self._at_start:
            return out
        last_newline = self._buf.rfind(b"\n")
        if last_newline >= 0:
            out.append(self._cut(last_newline + 1))
        self._buf.clear()
        return out

    def _take_header(self) -> bool:
        end = self._buf.find(b"\n")
        if end < 0:
            return False
        self._header = _strip_header(bytes(self._buf[: end + 1]))
        del self._buf[: end + 1]
        self._next_line = 2
        self._at_start = False
        return True

    def _cut(self, size: int) -> Block:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        block = Block(self._next_line, data)
        self._next_line += data.count(b"\n")
        return block

    def _guard_line_length(self, out: list[Block | OversizedLine]) -> None:
        last_newline = self._buf.rfind(b"\n")
        tail = len(self._buf) - last_newline - 1
        if tail <= self._max_line:
            return
        if self._at_start:
            # An endless first line: treat it as a header too long to be one.
            self._header = bytes(self._buf[: self._max_line])
            self._buf.clear()
            self._at_start = False
            self._skipped = tail
            return
        if last_newline >= 0:
            out.append(self._cut(last_newline + 1))
        self._skipped = len(self._buf)
        self._buf.clear()


def _strip_header(line: bytes) -> bytes:
    if line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM) :]
    return line.rstrip(b"\r\n")
