"""Mail templates fill as string.Template fills them, whatever text surrounds the fields."""

from __future__ import annotations

from string import Template

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from mailer_service.domain import InvalidMailSettings
from mailer_service.domain.templates import (
    DEFAULT_HTML,
    DEFAULT_SUBJECT,
    DEFAULT_TEXT,
    FIELDS,
    compile_template,
)

VALUES = {name: f"<{name} {{0}} $x %s>" for name in FIELDS}

# Pieces a template is made of: fields as $name and ${name}, escaped dollars, braces and
# percent signs (which mean something to str.format and %, not to Template), plain text.
PIECES = st.one_of(
    st.sampled_from(sorted(FIELDS)).map(lambda name: f"${name}"),
    st.sampled_from(sorted(FIELDS)).map(lambda name: f"${{{name}}}"),
    st.sampled_from(["$$", "{", "}", "{}", "{0}", "{{", "}}", "%s", "%", "\n", " "]),
    st.text(alphabet="aãé1 <>/", max_size=5),
)


@given(st.lists(PIECES, min_size=1, max_size=20).map("".join))
def test_a_template_fills_as_string_template_does(text: str) -> None:
    template = Template(text)
    assume(text.strip() and set(template.get_identifiers()) <= FIELDS)
    assert compile_template(text, "t").substitute(VALUES) == template.substitute(VALUES)


@pytest.mark.parametrize("text", [DEFAULT_SUBJECT, DEFAULT_TEXT, DEFAULT_HTML])
def test_the_default_templates_fill_as_string_template_does(text: str) -> None:
    assert compile_template(text, "t").substitute(VALUES) == Template(text).substitute(VALUES)


@pytest.mark.parametrize("text", ["$nome", "${amount", "preço: $ 10"])
def test_an_unknown_or_broken_placeholder_is_refused(text: str) -> None:
    with pytest.raises(InvalidMailSettings):
        compile_template(text, "text_template")
