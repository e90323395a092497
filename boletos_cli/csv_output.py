"""Where the CSV commands write: stdout, or a file that appears only once it is complete."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from boletos_cli.failures import CliError


async def write_csv(path: Path | None, write: Callable[[TextIO], Awaitable[int]]) -> int:
    """Runs `write` on stdout (no path) or on FILE; returns what it returns, a line count."""
    if path is None:
        return await write(sys.stdout)
    # Written beside the target and renamed at the end, so a failed call never leaves a
    # file that looks complete.
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as sink:
            count = await write(sink)
        os.replace(partial, path)
    except OSError as exc:
        raise CliError(f"{exc.filename or path}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return count
