"""Where the CSV commands write: stdout, or a file that appears only once it is complete."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO, cast

from boletos_cli.failures import CliError
from boletos_cli.private_files import open_private


async def write_csv(path: Path | None, write: Callable[[TextIO], Awaitable[int]]) -> int:
    """Runs `write` on stdout (no path) or on FILE; returns what it returns, a line count."""
    if path is None:
        return await write(sys.stdout)
    # Written beside the target and renamed at the end, so a failed call never leaves a
    # file that looks complete.
    partial = path.with_name(path.name + ".partial")
    try:
        with open_private(partial, "w", newline="", encoding="utf-8") as sink:
            count = await write(cast(TextIO, sink))
        os.replace(partial, path)
    except OSError as exc:
        raise CliError(f"{exc.filename or path}: {exc.strerror}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return count
