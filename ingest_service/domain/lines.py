"""Turns a stream of byte chunks into blocks of whole CSV records, numbered by physical line.

A record is one line, or several when a quoted field holds line breaks (RFC 4180): a line
break ends a record only where the quotes since the record began are balanced. Chunks may
cut a record anywhere; a block always ends on a record boundary, so the rest of the pipeline
never sees half a row, and a continuation line is never read as a row of its own.

Two bounds keep a hostile or broken file from making the service buffer without limit:
- a single line that grows past the limit without ending is dropped as it streams in (only
  its number and size are kept);
- a quote that opens a field and is not closed within the limit (often a stray `"` in an
  unquoted field) makes its line a record of its own, reported as such, and the lines after
  it are read afresh, so one bad row costs that row, not the rows that follow it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

UTF8_BOM = b"\xef\xbb\xbf"
DEFAULT_BLOCK_BYTES = 1 << 20
DEFAULT_MAX_LINE_BYTES = 16 << 10
QUOTE = b'"'


@dataclass(frozen=True, slots=True)
class Block:
    """Whole records; the first starts on line `first_line` of the file. Ends with a newline
    unless it is the file's unterminated last record."""

    first_line: int
    data: bytes


@dataclass(frozen=True, slots=True)
class OversizedLine:
    line: int
    size: int


@dataclass(frozen=True, slots=True)
class UnclosedQuote:
    """A line whose opening quote is not closed within the limit, read as a record alone."""

    line: int
    data: bytes
    limit: int


Item = Block | OversizedLine | UnclosedQuote


class RecordScanner:
    """Finds where complete records end in a growing buffer, remembering how far it read,
    so each byte is looked at once however the buffer grows."""

    def __init__(self) -> None:
        self.end = 0  # just past the last complete record
        self._position = 0  # scanned up to here
        self._balanced = True

    def scan(self, data: bytes | bytearray) -> int:
        if self._balanced and data.find(QUOTE, self._position) < 0:
            # No quote: every line break ends a record. The usual case, at C speed.
            self.end = max(self.end, data.rfind(b"\n", self._position) + 1)
            self._position = len(data)
            return self.end
        while True:
            newline = data.find(b"\n", self._position)
            if newline < 0:
                return self.end
            if data.count(QUOTE, self._position, newline) % 2:
                self._balanced = not self._balanced
            self._position = newline + 1
            if self._balanced:
                self.end = self._position

    def dropped(self, size: int) -> None:
        """The first `size` bytes of the buffer, whole records, went away."""
        self.end -= size
        self._position -= size

    def restart(self) -> None:
        """Read the buffer again from its start as if no quote were open."""
        self.end = self._position = 0
        self._balanced = True


def split_records(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line offset, record without its final line break) for each record of a block; the
    offset counts physical lines from the block's first."""
    if data.find(QUOTE) < 0:
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        yield from enumerate(lines)
        return
    offset = start = 0
    size = len(data)
    while start < size:
        end = _next_record_end(data, start)
        record = data[start:end]
        yield offset, record[:-1] if record.endswith(b"\n") else record
        offset += record.count(b"\n")
        start = end


def _next_record_end(data: bytes, start: int) -> int:
    """Past the first record that begins at `start` (the rest of the data if it never ends)."""
    position = start
    balanced = True
    while True:
        newline = data.find(b"\n", position)
        if newline < 0:
            return len(data)
        if data.count(QUOTE, position, newline) % 2:
            balanced = not balanced
        position = newline + 1
        if balanced:
            return position


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
        self._records = RecordScanner()
        self.bytes_received = 0

    @property
    def header(self) -> bytes | None:
        """The first line, once complete, without its line ending or a UTF-8 BOM."""
        return self._header

    def feed(self, chunk: bytes) -> list[Item]:
        self.bytes_received += len(chunk)
        out: list[Item] = []
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
            self._guard_length(out)
            return out
        end = self._records.scan(self._buf)
        if end >= self._block_bytes:
            out.append(self._cut(end))
        self._guard_length(out)
        return out

    def finish(self) -> list[Item]:
        """The rest of the file after a normal end of stream: its last record may lack a
        newline, or even its closing quote (the row then reads as malformed)."""
        out: list[Item] = []
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

    def abandon(self) -> list[Item]:
        """The rest of the file after the stream broke: only whole records are kept."""
        out: list[Item] = []
        self._skipped = 0
        if self._at_start:
            return out
        end = self._records.scan(self._buf)
        if end:
            out.append(self._cut(end))
        self._buf.clear()
        return out

    def _take_header(self) -> bool:
        end = self._buf.find(b"\n")
        if end < 0:
            return False
        self._header = _strip_header(bytes(self._buf[: end + 1]))
        del self._buf[: end + 1]
        self._records.restart()
        self._next_line = 2
        self._at_start = False
        return True

    def _cut(self, size: int) -> Block:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        self._records.dropped(size)
        block = Block(self._next_line, data)
        self._next_line += data.count(b"\n")
        return block

    def _guard_length(self, out: list[Item]) -> None:
        """Keeps the unfinished record within the limit (see the module's docstring)."""
        while True:
            end = self._records.scan(self._buf)
            tail = len(self._buf) - end
            if tail <= self._max_line:
                return
            if self._at_start:
                # An endless first line: treat it as a header too long to be one.
                self._header = bytes(self._buf[: self._max_line])
                self._buf.clear()
                self._records.restart()
                self._at_start = False
                self._skipped = tail
                return
            if end:
                out.append(self._cut(end))
            first_newline = self._buf.find(b"\n")
            if first_newline < 0:
                # One line, still growing: drop it as it streams in.
                self._skipped = len(self._buf)
                self._buf.clear()
                self._records.restart()
                return
            # An open quote spans lines: its first line alone is the bad record; the lines
            # after it are read again from scratch.
            line = bytes(self._buf[:first_newline])
            del self._buf[: first_newline + 1]
            self._records.restart()
            out.append(UnclosedQuote(self._next_line, line, self._max_line))
            self._next_line += 1


def _strip_header(line: bytes) -> bytes:
    if line.startswith(UTF8_BOM):
        line = line[len(UTF8_BOM) :]
    return line.rstrip(b"\r\n")
