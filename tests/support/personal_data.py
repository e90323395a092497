"""Looking for personal data where it does not belong: every log record the in-process
services write, as the production JSON formatter writes it, and the forms a debtor's data
can take in them."""

from __future__ import annotations

import contextlib
import io
import logging
import unicodedata
from collections.abc import Iterator, Sequence

from boletos.platform import logs
from tests.support.csvdata import Row


@contextlib.contextmanager
def json_log() -> Iterator[io.StringIO]:
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield written
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def service_lines(lines: Sequence[str]) -> list[str]:
    """The lines the services wrote: the test's own SMTP server (aiosmtpd logs as mail.log)
    sees whole messages and is not one of them."""
    return [line for line in lines if '"logger": "mail.log"' not in line]


def personal_data(rows: Sequence[Row]) -> list[str]:
    """Each debtor's name, e-mail address, CPF/CNPJ and street address, also as people write
    a CPF (123.456.789-09) and as a CNAB file carries a name or a street (upper case, no
    accents)."""
    found = []
    for row in rows:
        found += [row.name, row.email, row.government_id]
        for text in (row.name, row.address):
            if not text:
                continue
            folded = "".join(
                c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
            ).upper()
            found += [text, folded] if folded != text else [text]
        if len(row.government_id) == 11:
            g = row.government_id
            found.append(f"{g[:3]}.{g[3:6]}.{g[6:9]}-{g[9:]}")
    return found


def leaks(rows: Sequence[Row], lines: Sequence[str]) -> list[tuple[str, str]]:
    """(value, line) for every piece of personal data found in a line."""
    return [(value, line[:200]) for value in personal_data(rows) for line in lines if value in line]
