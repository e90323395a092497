"""A QR code as a small inline SVG: one path of the dark modules, with the quiet zone the
standard asks for. Pure; reportlab (already the PDFs' library) encodes the code."""

from __future__ import annotations

from reportlab.graphics.barcode import qrencoder

QUIET_ZONE = 4  # modules of white around the code


def qr_svg(text: str, *, label: str) -> str:
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    size = code.getModuleCount() + 2 * QUIET_ZONE
    runs = []
    for row, modules in enumerate(code.modules):
        column = 0
        while column < len(modules):
            if modules[column]:
                start = column
                while column < len(modules) and modules[column]:
                    column += 1
                x, y = start + QUIET_ZONE, row + QUIET_ZONE
                runs.append(f"M{x} {y}h{column - start}v1h-{column - start}z")
            else:
                column += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{label}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
