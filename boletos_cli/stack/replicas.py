"""Reads how many processes each service runs from text like ``boleto=2,mailer=2``."""

from __future__ import annotations

from boletos_cli.stack.layout import MAX_REPLICAS, SERVICES, StackError

SYNTAX = "SERVICE=N[,SERVICE=N...]"


def parse_replicas(text: str) -> dict[str, int]:
    """Counts by service name; an empty text leaves every service at one process.

    Raises StackError naming the offending entry, so a typo is never silently ignored.
    """
    known = [spec.name for spec in SERVICES]
    counts: dict[str, int] = {}
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        name, sep, number = (part.strip() for part in entry.partition("="))
        if not sep or not name or not number:
            raise StackError(f"{entry!r} is not SERVICE=N (expected {SYNTAX})")
        if name not in known:
            raise StackError(f"unknown service {name!r}; the services are {', '.join(known)}")
        if name in counts:
            raise StackError(f"{name} is given more than once")
        try:
            count = int(number)
        except ValueError:
            raise StackError(f"{entry!r}: {number!r} is not a whole number") from None
        if not 1 <= count <= MAX_REPLICAS:
            raise StackError(f"{entry!r}: a service runs 1 to {MAX_REPLICAS} processes")
        counts[name] = count
    return counts


def describe(counts: dict[str, int]) -> str:
    """The inverse of parse_replicas for people: "boleto=2,mailer=2" or "one each"."""
    scaled = {name: n for name, n in counts.items() if n != 1}
    return ",".join(f"{name}={n}" for name, n in scaled.items()) or "one each"
