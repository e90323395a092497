"""Debtors' payment links: a token verifies only as signed, for its own debt and until its
last day; nothing else passes, however close; keys rotate without breaking links in flight."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boletos.platform.payment_links import (
    ExpiredLink,
    InvalidLink,
    InvalidLinkKeys,
    LinkKeys,
    new_key_line,
    parse_keys,
)

DEBT = "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10"
LAST = dt.date(2027, 6, 30)
TODAY = dt.date(2027, 1, 10)


def keys(*lines: str) -> LinkKeys:
    return parse_keys("".join(lines))


# Fixed, so that the parametrized cases read the same in every test worker.
K1 = "k1 " + "1f" * 32 + "\n"
K2 = "k2 " + "2e" * 32 + "\n"


def test_a_link_verifies_as_signed() -> None:
    token = keys(K1).sign(DEBT, LAST)
    link = keys(K1).verify(token, TODAY)
    assert (link.debt_id, link.last_day) == (DEBT, LAST)
    # Nothing personal, and nothing a guess could step through: the debt id and a day.
    assert "@" not in token and len(token) < 120


def test_past_its_last_day_a_link_says_whose_it_was() -> None:
    token = keys(K1).sign(DEBT, LAST)
    with pytest.raises(ExpiredLink) as ended:
        keys(K1).verify(token, LAST + dt.timedelta(days=1))
    assert ended.value.debt_id == DEBT
    assert keys(K1).verify(token, LAST).debt_id == DEBT


def test_another_deployments_key_does_not_verify() -> None:
    token = keys(K1).sign(DEBT, LAST)
    with pytest.raises(InvalidLink):
        keys(new_key_line("k1")).verify(token, TODAY)  # the same id, a fresh secret


@settings(max_examples=300, deadline=None)
@given(
    position=st.integers(min_value=0), char=st.sampled_from(string.ascii_letters + "0123456789-_.")
)
def test_no_change_of_one_character_passes(position: int, char: str) -> None:
    signer = keys(K1)
    token = signer.sign(DEBT, LAST)
    at = position % len(token)
    if token[at] == char:
        return
    forged = token[:at] + char + token[at + 1 :]
    with pytest.raises((InvalidLink, ExpiredLink)) as refused:
        signer.verify(forged, TODAY)
    # A changed last day or debt id never yields a valid link for them.
    assert refused.type is InvalidLink


def test_a_link_for_one_debt_cannot_be_moved_to_another() -> None:
    signer = keys(K1)
    version, key_id, debt, day, mac = signer.sign(DEBT, LAST).split(".")
    other = signer.sign("another-debt", LAST).split(".")[2]
    with pytest.raises(InvalidLink):
        signer.verify(".".join([version, key_id, other, day, mac]), TODAY)
    later = "20991231"
    with pytest.raises(InvalidLink):
        signer.verify(".".join([version, key_id, debt, later, mac]), TODAY)


@pytest.mark.parametrize(
    "junk", ["", "x", "1.k1", "1....", "1.k1.!!.20270101.AA", "2.k1.a.b.c", "1" * 600]
)
def test_junk_is_refused_as_not_a_link(junk: str) -> None:
    with pytest.raises(InvalidLink):
        keys(K1).verify(junk, TODAY)


def test_rotation_keeps_old_links_until_the_old_keys_last_day() -> None:
    old = keys(K1).sign(DEBT, LAST)
    retired = K1.strip() + " 2027-02-01\n"
    rotated = keys(K2, retired)
    assert rotated.sign(DEBT, LAST).split(".")[1] == "k2"
    assert rotated.verify(old, dt.date(2027, 2, 1)).debt_id == DEBT
    with pytest.raises(InvalidLink):
        rotated.verify(old, dt.date(2027, 2, 2))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no key"),
        ("k1\n", "line 1"),
        ("k1 zz\n", "hex"),
        ("k1 abcd\n", "32 bytes"),
        (K1 + K1, "twice"),
        (K1.strip() + " someday\n", "YYYY-MM-DD"),
    ],
)
def test_a_bad_key_file_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidLinkKeys, match=problem):
        parse_keys(text)


def test_a_key_never_shows_its_secret() -> None:
    parsed = keys(K1)
    assert K1.split()[1] not in repr(parsed.current)


def test_a_token_has_one_spelling() -> None:
    token = keys(K1).sign(DEBT, LAST)
    mac = token.rsplit(".", 1)[1]
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    last = alphabet.index(mac[-1])
    # The last character's two unused bits, set otherwise: the same bytes, another spelling.
    respelled = token[:-1] + alphabet[last ^ 1]
    with pytest.raises(InvalidLink):
        keys(K1).verify(respelled, TODAY)
