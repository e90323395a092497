"""One set of characters that act instead of showing, honoured alike wherever people read
what a client sent: refused in a row's name, replaced in a file name, escaped on the
terminal, spaced or dropped in an e-mail header, spaced or dropped on the PDF."""

from __future__ import annotations

import datetime as dt

import pytest

from boleto_service.documents.text import encode
from boletos.platform.text import ACTED_ON, CONTROLS, DIRECTION_MARKS, code_points, neutralized
from boletos_cli.render import shown
from ingest_service.api.servicer import shown_file_name
from ingest_service.domain.columns import Invalid, Rules, parse_name
from mailer_service.domain.headers import single_line

EVERY = [chr(c) for c in code_points(ACTED_ON)]
RULES = Rules(dt.date(2030, 1, 1))


def test_the_sets_cover_what_forges_a_line_or_reorders_it() -> None:
    for char in ("\x1b", "\n", "\r", "\x00", "\x7f", "\x9b", "\u2028", "\u202e", "\u2067"):
        assert char in EVERY
    assert not {"a", "ç", "\u00a0", "-", "\ufffd"} & set(EVERY)


@pytest.mark.parametrize("char", EVERY, ids=lambda c: f"U+{ord(c):04X}")
def test_every_reader_neutralizes_the_same_characters(char: str) -> None:
    text = f"Ana{char}Maria"
    assert neutralized(text) == "Ana\ufffdMaria"
    assert char not in shown_file_name(text)
    assert char not in shown(text) and "\\" in shown(text)
    assert isinstance(parse_name(text, RULES), Invalid)
    header = single_line(text)
    pdf = encode(text)
    if ord(char) in set(code_points(DIRECTION_MARKS)):
        assert header == "AnaMaria" and pdf == b"AnaMaria"
    else:
        assert ord(char) in set(code_points(CONTROLS))
        assert header == "Ana Maria" and pdf == b"Ana Maria"
