"""The static half of the page: boxes, rules, shading and labels, identical on every boleto."""

from __future__ import annotations

from itertools import groupby

from .content import ContentWriter
from .layout import Layout, Rule

SHADE_GRAY = 0.88


def static_operators(page: Layout) -> bytes:
    """Operators for everything but the variable text and the barcode, state saved around."""
    out = ContentWriter()
    out.raw(b"q\n")
    out.gray_fill(SHADE_GRAY)
    for shade in page.shades:
        out.fill_rect(shade.x, shade.y, shade.w, shade.h)
    out.gray_fill(0)
    # Grouped so each line width and dash pattern is set once.
    by_style = sorted(merge_rules(page.rules), key=lambda rule: (rule.width, rule.dashed))
    for (width, dashed), rules in groupby(by_style, key=lambda rule: (rule.width, rule.dashed)):
        out.line_width(width)
        if dashed:
            out.dash(3, 2)
        for rule in rules:
            out.line(rule.x1, rule.y1, rule.x2, rule.y2)
        if dashed:
            out.solid()
    out.begin_text()
    for label in page.labels:
        out.text(label.text, label.font, label.size, label.x, label.y, label.align)
    out.end_text()
    out.raw(b"Q\n")
    return bytes(out)


def merge_rules(rules: list[Rule]) -> list[Rule]:
    """Join rules that continue each other on the same line into one, dropping repeats.

    Rows each draw their own separators, so a column border arrives as one segment per row.
    """
    merged: list[Rule] = []
    for rule in sorted(rules, key=_merge_key):
        last = merged[-1] if merged else None
        if last is not None and _collinear(last, rule) and _start(rule) <= _end(last) + 0.01:
            end = max(_end(last), _end(rule))
            merged[-1] = _with_span(last, _start(last), end)
        else:
            merged.append(_with_span(rule, _start(rule), _end(rule)))
    return merged


def _vertical(rule: Rule) -> bool:
    return rule.x1 == rule.x2


def _merge_key(rule: Rule) -> tuple[bool, float, float, bool, float]:
    fixed = rule.x1 if _vertical(rule) else rule.y1
    return (_vertical(rule), fixed, rule.width, rule.dashed, _start(rule))


def _collinear(a: Rule, b: Rule) -> bool:
    return _merge_key(a)[:4] == _merge_key(b)[:4]


def _start(rule: Rule) -> float:
    return min(rule.y1, rule.y2) if _vertical(rule) else min(rule.x1, rule.x2)


def _end(rule: Rule) -> float:
    return max(rule.y1, rule.y2) if _vertical(rule) else max(rule.x1, rule.x2)


def _with_span(rule: Rule, start: float, end: float) -> Rule:
    if _vertical(rule):
        return Rule(rule.x1, start, rule.x2, end, rule.width, rule.dashed)
    return Rule(start, rule.y1, end, rule.y2, rule.width, rule.dashed)
