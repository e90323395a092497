"""Characters that act instead of showing, written once for every place people read what
a client sent (a name, an address, a file name): log lines, the terminal, e-mail headers,
the PDF and the bank's files.

Controls (C0, DEL, C1) and the line and paragraph separators end or garble a line: they
forge log lines, start terminal sequences (ESC, and C1's one-byte CSI) and new headers. The
bidirectional marks, embeddings, overrides and isolates make text read other than it is
stored ("exe.pdf" shown for "fdp.exe"). Each reader decides what to do with them: refuse
the row, replace, escape, drop; the sets are the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

CONTROLS = (range(0x00, 0x20), range(0x7F, 0xA0), range(0x2028, 0x202A))
DIRECTION_MARKS = (
    range(0x061C, 0x061D),
    range(0x200E, 0x2010),
    range(0x202A, 0x202F),
    range(0x2066, 0x206A),
)
ACTED_ON = (*CONTROLS, *DIRECTION_MARKS)


def char_class(ranges: Iterable[range]) -> str:
    """The inside of a regular expression's [...] matching the code points of `ranges`."""
    return "".join(f"\\u{r.start:04x}-\\u{r.stop - 1:04x}" for r in ranges)


def code_points(ranges: Iterable[range]) -> Iterator[int]:
    for r in ranges:
        yield from r


_ACTED_ON_RE = re.compile(f"[{char_class(ACTED_ON)}]")


def neutralized(text: str, replacement: str = "\ufffd") -> str:
    """`text` with each character that would act replaced (by U+FFFD: a reader still sees
    that something was there)."""
    return _ACTED_ON_RE.sub(replacement, text)


def escaped(text: str) -> str:
    """`text` with each character that would act written as Python writes it (\\x1b,
    \\u202e): visible, and unable to move a cursor, colour or reorder a line."""
    return _ACTED_ON_RE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
