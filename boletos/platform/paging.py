"""Page size and page token of a listing RPC, read the same way by every service.

A page token is the key of the last row of the previous page, written in ASCII digits. It
arrives from the network, so it is parsed strictly: `str.isdigit` also says yes to "²" and
"１２３" (which `int` then rejects or reads), and a number past 64 bits reaches the database
driver and fails there as UNKNOWN. Anything but a token this API could have given is
INVALID_ARGUMENT, decided before any store is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import grpc

from boletos.platform import errors

T = TypeVar("T")

# The keys behind the tokens (upload, remessa and line numbers) start at 1 and are written
# without leading zeros. The largest one a listing reads is its column's: a bigger number
# would reach PostgreSQL and fail there ("integer out of range").
INTEGER_KEYS = 2**31 - 1
BIGINT_KEYS = 2**63 - 1
# `[0-9]`, not `\d`: in a str pattern `\d` matches every Unicode decimal digit.
_TOKEN = re.compile(r"[1-9][0-9]{0,18}")
REFUSAL = "not a token this API gave"


class ListingRequest(Protocol):
    @property
    def page_size(self) -> int: ...

    @property
    def page_token(self) -> str: ...


class BadPageToken(ValueError):
    """A page token this API could not have given."""


@dataclass(frozen=True)
class Paging:
    """One listing's page sizes (`default` when the caller asks for none, never past `most`),
    and the largest key its tokens name."""

    default: int
    most: int
    largest_key: int = BIGINT_KEYS

    def size(self, requested: int) -> int:
        return min(requested or self.default, self.most)


def parse_token(token: str, largest_key: int = BIGINT_KEYS) -> int | None:
    """The key a page token stands for; None for the first page (no token)."""
    if not token:
        return None
    if not _TOKEN.fullmatch(token):
        raise BadPageToken(REFUSAL)
    key = int(token)
    if key > largest_key:
        raise BadPageToken(REFUSAL)
    return key


def token_for(key: int) -> str:
    return str(key)


@dataclass(frozen=True)
class PageRequest:
    size: int
    cursor: int | None  # the key of the previous page's last row; None for the first page

    @property
    def fetch(self) -> int:
        """How many rows to ask the store for: one more than a page tells if another follows."""
        return self.size + 1

    def cut(self, rows: Sequence[T], key: Callable[[T], int]) -> tuple[Sequence[T], str]:
        """The page out of `fetch` rows, and the token of the next page ("" when last)."""
        page = rows[: self.size]
        return page, token_for(key(page[-1])) if len(rows) > self.size else ""


async def read(
    request: ListingRequest, context: grpc.aio.ServicerContext, paging: Paging
) -> PageRequest:
    """The page a listing call asks for, or INVALID_ARGUMENT on `page_token`."""
    try:
        cursor = parse_token(request.page_token, paging.largest_key)
    except BadPageToken:
        await errors.invalid_argument(context, "page_token", REFUSAL)
    return PageRequest(paging.size(request.page_size), cursor)
