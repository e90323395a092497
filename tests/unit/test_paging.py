"""Page tokens come from the network: only a token the API could have given is read."""

from __future__ import annotations

import pytest

from boletos.platform.paging import (
    BIGINT_KEYS,
    INTEGER_KEYS,
    BadPageToken,
    PageRequest,
    Paging,
    parse_token,
)

# What a caller may send instead of a token: every one must be refused, none may raise
# anything but BadPageToken (an OverflowError or a ValueError from `int` would be UNKNOWN).
HOSTILE_TOKENS = [
    "abc",
    "-1",
    "+1",
    "0",
    "007",
    " 12",
    "12 ",
    "12\n",
    "1_000",
    "1e3",
    "0x10",
    "1.5",
    "²",
    "1²",
    "１２３",  # full-width digits: `int` reads them, this API never writes them
    "٣",  # Arabic-Indic three
    "\x00",
    "\u202e12",
    str(BIGINT_KEYS + 1),
    "99999999999999999999999",
    "9" * 5000,
]


@pytest.mark.parametrize("token", HOSTILE_TOKENS)
def test_a_token_this_api_did_not_give_is_refused(token: str) -> None:
    with pytest.raises(BadPageToken):
        parse_token(token)


@pytest.mark.parametrize("key", [1, 2, 10, 1234567, INTEGER_KEYS, BIGINT_KEYS])
def test_every_token_the_api_gives_reads_back_as_its_key(key: int) -> None:
    assert parse_token(str(key)) == key


def test_a_key_past_the_listings_column_is_refused() -> None:
    assert parse_token(str(INTEGER_KEYS), INTEGER_KEYS) == INTEGER_KEYS
    with pytest.raises(BadPageToken):
        parse_token(str(INTEGER_KEYS + 1), INTEGER_KEYS)


def test_no_token_is_the_first_page() -> None:
    assert parse_token("") is None


def test_page_size_defaults_and_is_capped() -> None:
    limits = Paging(default=50, most=500)
    assert [limits.size(n) for n in (0, 1, 50, 500, 501, 2**32 - 1)] == [50, 1, 50, 500, 500, 500]


def test_a_page_cut_from_one_row_more_names_the_next_page() -> None:
    wanted = PageRequest(size=2, cursor=None)
    assert wanted.fetch == 3
    page, token = wanted.cut([7, 5, 3], key=lambda n: n)
    assert (list(page), token) == ([7, 5], "5")
    assert parse_token(token) == 5
    page, token = wanted.cut([3], key=lambda n: n)
    assert (list(page), token) == ([3], "")
    assert wanted.cut([], key=lambda n: n) == ([], "")
