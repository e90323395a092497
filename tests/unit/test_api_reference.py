"""docs/api-reference.md is what its generator writes from today's protos and code, and the
generator finds the error reasons wherever the services give them."""

from __future__ import annotations

import difflib
import re

import pytest

from boletos_docs import api_reference

CONTRACTS = api_reference.ROOT / "docs" / "contracts.md"


def test_the_api_reference_is_what_the_generator_writes() -> None:
    written = api_reference.OUTPUT.read_text()
    fresh = api_reference.render()
    if written != fresh:
        diff = difflib.unified_diff(
            written.splitlines(), fresh.splitlines(), "checked in", "generated", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[:40])
        pytest.fail(
            f"docs/api-reference.md is out of date; write it again with "
            f"`{api_reference.COMMAND}`:\n{shown}"
        )


def _gathered() -> dict[str, set[str]]:
    """Each reason, with the groups (processes, shared code) it was found in."""
    found: dict[str, set[str]] = {}
    for group, reasons in api_reference.error_reasons().items():
        for reason in reasons:
            found.setdefault(reason, set()).add(group)
    return found


def test_the_reasons_are_found_wherever_they_are_given() -> None:
    found = _gathered()
    # One of each way a reason reaches a client:
    assert "boleto_service" in found["REMESSA_WRITE_FAILED"]  # errors.error_info("...")
    assert "ingest_service" in found["KEY_NOT_FOUND"]  # errors.not_found(..., "...")
    assert "boletos/platform" in found["INVALID_FIELD"]  # invalid_argument's default
    assert "ingest_service" in found["BYTES_LOST"]  # a table's Row(code, "...")
    assert "boleto_service" in found["NEW_DUE_DATE_REQUIRED"]  # raise InstructionRefused("...")
    assert "boleto_service" in found["RETORNO_NOT_CNAB240"]  # a constant, imported
    assert "boleto_service" in found["RETORNO_COUNTS_DISAGREE"]  # a local from a constant tuple
    assert "boletos/platform" in found["TOO_MANY_FAILED_ATTEMPTS"]  # the interceptor
    # Upper-case literals that are not reasons stay out.
    assert not {"GRPC_TLS_CERT", "PERMISSION_DENIED", "BOLETOS_KEYS"} & set(found)


def test_every_reason_the_contracts_doc_lists_is_found() -> None:
    text = CONTRACTS.read_text()
    errors = text[text.index("\n## Errors") :]
    errors = errors[: errors.index("\n## ", 1)]
    listed = {
        reason
        for line in errors.splitlines()
        if line.startswith("| `")
        for reason in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    }
    assert len(listed) > 10
    assert listed - set(_gathered()) == set()
