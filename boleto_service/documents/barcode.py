"""Interleaved 2 of 5 for the 44-digit boleto barcode, drawn as filled rectangles.

Each digit is five elements, two of them wide; in a pair the first digit sets the widths of
five bars and the second those of the five spaces between them. With wide = 3 narrow a pair
always spans 18 narrow modules whatever its digits, so a pair can be drawn from its own
origin and the operators for each of the 100 pairs written once and reused.
"""

from __future__ import annotations

from functools import cache

from .content import num

NARROW = 1
WIDE = 3
# Element widths per digit, narrow (N) or wide (W); the standard table of the symbology.
_DIGIT_PATTERNS = {
    "0": "NNWWN",
    "1": "WNNNW",
    "2": "NWNNW",
    "3": "WWNNN",
    "4": "NNWNW",
    "5": "WNWNN",
    "6": "NWWNN",
    "7": "NNNWW",
    "8": "WNNWN",
    "9": "NWNWN",
}
_WIDTH = {"N": NARROW, "W": WIDE}
START = "NNNN"  # bar, space, bar, space
STOP = "WNN"  # wide bar, space, bar
PAIR_MODULES = 18
START_MODULES = 4
STOP_MODULES = 5


def total_modules(digit_count: int) -> int:
    """Width in narrow modules of a symbol of `digit_count` digits (44 digits: 405)."""
    return START_MODULES + PAIR_MODULES * digit_count // 2 + STOP_MODULES


def elements(digits: str) -> str:
    """The symbol as alternating bar/space widths, 'N' or 'W', starting with a bar."""
    _check(digits)
    body = "".join(
        bar + space
        for first, second in zip(digits[0::2], digits[1::2], strict=True)
        for bar, space in zip(_DIGIT_PATTERNS[first], _DIGIT_PATTERNS[second], strict=True)
    )
    return START + body + STOP


def bars(digits: str) -> list[tuple[int, int]]:
    """(start, width) of every bar, in narrow modules from the symbol's left edge."""
    position = 0
    found = []
    for index, element in enumerate(elements(digits)):
        size = _WIDTH[element]
        if index % 2 == 0:
            found.append((position, size))
        position += size
    return found


def _rects(runs: list[tuple[int, int]]) -> bytes:
    return b"".join(b"%d 0 %d 1 re " % (start, size) for start, size in runs)


@cache
def _pair(pair: str) -> bytes:
    """One pair's bars from its own left edge, filled, then the origin moved past the pair."""
    own = bars(pair)[2:-2]  # bars() of a lone pair includes the start and stop patterns
    runs = [(start - START_MODULES, size) for start, size in own]
    return _rects(runs) + b"f 1 0 0 1 %d 0 cm\n" % PAIR_MODULES


@cache
def _guards() -> tuple[bytes, bytes]:
    guards = bars("")  # the start and stop patterns with nothing between them
    start, stop = guards[:2], guards[2:]
    stop_runs = [(position - START_MODULES, size) for position, size in stop]
    return (
        _rects(start) + b"f 1 0 0 1 %d 0 cm\n" % START_MODULES,
        _rects(stop_runs) + b"f\n",
    )


def _num_precise(value: float) -> bytes:
    # Five decimals keep 405 modules within 0.01 pt of the intended symbol length.
    return f"{value:.5f}".rstrip("0").rstrip(".").encode("ascii")


def barcode_operators(digits: str, x: float, y: float, length: float, height: float) -> bytes:
    """Content operators painting the symbol with its lower left corner at (x, y), in points.

    Bars are rectangles in module units under a scaling matrix, so every edge falls on an
    exact multiple of the narrow width. After each pair the origin moves 18 modules; the
    repeated pair strings also compress better than absolute positions would.
    """
    _check(digits)
    start, stop = _guards()
    module = length / total_modules(len(digits))
    parts = [b"q 0 g %s 0 0 %s %s %s cm\n" % (_num_precise(module), num(height), num(x), num(y))]
    parts.append(start)
    parts.extend(_pair(digits[i : i + 2]) for i in range(0, len(digits), 2))
    parts.append(stop)
    parts.append(b"Q\n")
    return b"".join(parts)


def _check(digits: str) -> None:
    if len(digits) % 2 or digits.strip("0123456789"):
        raise ValueError(f"Interleaved 2 of 5 encodes an even number of digits, got {digits!r}")
