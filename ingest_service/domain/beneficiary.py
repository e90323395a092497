"""Which beneficiary an upload's debts are owed to, from what its header names."""

from __future__ import annotations

from collections.abc import Sequence

from boletos.platform.beneficiaries_file import DEFAULT_KEY


class BeneficiaryRefused(ValueError):
    """`reason` is the ErrorInfo reason the upload is refused with."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def resolve_beneficiary(named: str, configured: Sequence[str]) -> str:
    """The key the upload is for; `configured` is empty when there is one beneficiary
    (the BENEFICIARY_* variables')."""
    keys = tuple(configured) or (DEFAULT_KEY,)
    if not named:
        if len(keys) == 1:
            return keys[0]
        raise BeneficiaryRefused(
            "BENEFICIARY_REQUIRED",
            "this deployment collects for several beneficiaries: name the one the file's "
            "debts are owed to (one of: " + ", ".join(keys) + ")",
        )
    if named not in keys:
        shown = named if len(named) <= 64 and named.isprintable() else named[:64] + "…"
        raise BeneficiaryRefused(
            "BENEFICIARY_UNKNOWN",
            f"no beneficiary {shown!r} is configured; known: " + ", ".join(keys),
        )
    return named
