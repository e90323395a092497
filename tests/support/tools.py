"""System tools some tests run (pdftoppm, zbarimg, chromium): found on PATH, or the test is
skipped with what to install, except in CI (CI=true), where a missing tool fails it."""

from __future__ import annotations

import os
import shutil

import pytest

# The Debian package each tool comes from; `make system-deps` installs them.
PACKAGES = {
    "pdftoppm": "poppler-utils",
    "pdftotext": "poppler-utils",
    "zbarimg": "zbar-tools",
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
    "promtool": "prometheus",
}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found (install {PACKAGES[name]}: make system-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
