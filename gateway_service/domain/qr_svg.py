"""A QR code as a small inline SVG: one path of the dark modules, with the quiet zone the
standard asks for. Pure drawing; boletos.platform.qr encodes the code."""

from __future__ import annotations

from boletos.platform.qr import qr_symbol

QUIET_ZONE = 4  # modules of white around the code


def qr_svg(text: str, *, label: str) -> str:
    symbol = qr_symbol(text)
    size = symbol.size + 2 * QUIET_ZONE
    runs = [
        f"M{start + QUIET_ZONE} {row + QUIET_ZONE}h{length}v1h-{length}z"
        for row, row_runs in enumerate(symbol.runs)
        for start, length in row_runs
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{label}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
