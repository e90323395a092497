"""Deterministic Message-IDs: a re-sent boleto keeps its id, so duplicates show downstream."""

from __future__ import annotations

import re

from .addresses import HOSTNAME
from .errors import InvalidBoletoMail

# Debt ids end up in the Message-ID, a header and the attachment's file name, so only
# characters that are plain atext everywhere are admitted. Debt ids are UUIDs in practice.
MAX_DEBT_ID_CHARS = 64
_DEBT_ID = re.compile(rf"[A-Za-z0-9](?:[A-Za-z0-9_-]{{0,{MAX_DEBT_ID_CHARS - 2}}}[A-Za-z0-9])?")
_HOSTNAME = re.compile(HOSTNAME)


def check_debt_id(debt_id: str) -> str:
    if not isinstance(debt_id, str) or not _DEBT_ID.fullmatch(debt_id):
        raise InvalidBoletoMail(
            f"debt id {debt_id!r} must be 1-{MAX_DEBT_ID_CHARS} letters, digits, '-' or '_'"
        )
    return debt_id


_PREFIX = re.compile(r"[a-z]{1,16}")
_TAG = re.compile(r"[0-9a-z]{1,16}(?:-[0-9a-z]{1,16})?")


def message_id(debt_id: str, domain: str, prefix: str = "boleto", tag: str = "") -> str:
    """'<boleto-<debt_id>@<domain>>', the domain lowercased so the id does not vary with case.

    Each kind of e-mail about a debt has a prefix of its own ("reminder", ...), so a copy of
    one is recognisable and never mistaken for another kind's. A kind sent more than once
    for a debt (the updated boleto, once per new due date) adds a tag after the debt id
    ('<updated-<debt_id>-20260315-1a2b3c4d@<domain>>'), so each has an id of its own.
    """
    check_debt_id(debt_id)
    if not _HOSTNAME.fullmatch(domain):
        raise ValueError(f"{domain!r} is not a host name usable in a Message-ID")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"{prefix!r} is not a Message-ID prefix")
    if tag and not _TAG.fullmatch(tag):
        raise ValueError(f"{tag!r} is not a Message-ID tag")
    suffix = f"-{tag}" if tag else ""
    return f"<{prefix}-{debt_id}{suffix}@{domain.lower()}>"
