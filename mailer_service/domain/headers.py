"""Header values that cannot break out of their header: one line of text, then encoded.

Every value is reduced to a single line before it is encoded, and the result is pure ASCII
whose only line breaks are folds (CRLF followed by a space), so nothing a payer's name or a
template contains can start a new header. Non-ASCII text becomes RFC 2047 encoded words.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr
from functools import lru_cache

from boletos.platform.text import CONTROLS, DIRECTION_MARKS, code_points

LINESEP = "\r\n"
# RFC 5322 asks for lines of at most 78 characters; values that fit go out as they are.
MAX_LINE = 78

# Controls and line separators would end or garble a header line: spaces. Direction marks
# would make a name display as something else: dropped.
_TO_SPACE = dict.fromkeys(code_points(CONTROLS), " ")
_DROPPED = dict.fromkeys(code_points(DIRECTION_MARKS))
_SINGLE_LINE = str.maketrans({**_TO_SPACE, **_DROPPED})
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ATOM_PHRASE = re.compile(rf"{_ATOM}(?: {_ATOM})*")


def single_line(value: str) -> str:
    """Controls and line breaks become spaces; runs of whitespace collapse to one space."""
    if not value.isascii():
        # A lone surrogate cannot be encoded as UTF-8 and would fail the message late.
        value = value.encode("utf-8", "replace").decode("utf-8")
    return " ".join(value.translate(_SINGLE_LINE).split())


def _fits(header_name: str, value: str) -> bool:
    return len(header_name) + 2 + len(value) <= MAX_LINE


def _plain_enough(text: str) -> bool:
    # "=?" would let a reader decode a literal value as an encoded word, i.e. show other text.
    return text.isascii() and "=?" not in text


def _encoded_words(header_name: str, text: str) -> str:
    return Header(text, "utf-8", header_name=header_name).encode(linesep=LINESEP)


def format_mailbox(header_name: str, display_name: str, addr_spec: str) -> str:
    """An address header's value: 'Name <addr>', quoting or encoding the name as needed.

    `addr_spec` must already be validated; only the display name is treated as untrusted.
    """
    name = single_line(display_name)
    if not name:
        return addr_spec
    if _plain_enough(name):
        if _ATOM_PHRASE.fullmatch(name):
            value = f"{name} <{addr_spec}>"
        else:
            value = formataddr((name, addr_spec))  # quotes and escapes specials
        if _fits(header_name, value):
            return value
    encoded = _encoded_words(header_name, name)
    last_line = encoded.rpartition(LINESEP)[2]
    # The address is folded onto its own line rather than ever split.
    separator = " " if len(last_line) + len(addr_spec) + 3 <= MAX_LINE else LINESEP + " "
    return f"{encoded}{separator}<{addr_spec}>"


def format_unstructured(header_name: str, value: str) -> str:
    """A free-text header's value such as the Subject."""
    text = single_line(value)
    if _plain_enough(text) and _fits(header_name, text):
        return text
    return _encoded_words(header_name, text)


def header_line(header_name: str, value: str) -> bytes:
    """'Name: value' CRLF, refusing any value that is not ASCII or breaks other than by folding.

    The formatters above never produce such a value; this is the check that keeps it so.
    """
    unfolded = value.replace(LINESEP + " ", "")
    if "\r" in unfolded or "\n" in unfolded or not value.isascii():
        raise ValueError(f"unsafe value for header {header_name}: {value!r}")
    return f"{header_name}: {value}{LINESEP}".encode("ascii")


def date_header(moment: datetime) -> str:
    """The Date header's value (RFC 5322, to the second) of a timezone-aware moment."""
    return _date_header(moment.replace(microsecond=0), moment.utcoffset())


# A sender writes thousands of messages a second, all with one of a few Date values. The
# offset is part of the key: moments equal across zones are one key, and print differently.
@lru_cache(maxsize=8)
def _date_header(moment: datetime, _offset: timedelta | None) -> str:
    return format_datetime(moment)
