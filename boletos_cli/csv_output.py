"""Where the CSV commands write: stdout, or a file that appears only once it is complete."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
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


class HeaderedWriter:
    """A CSV writer whose header goes out with the first rows, or at `finish` when there are
    none: a call that fails before its first answer leaves stdout empty, not a lone header
    a script could take for an empty result."""

    def __init__(self, sink: TextIO, header: Sequence[str]) -> None:
        self._writer = csv.writer(sink, lineterminator="\n")
        self._header: Sequence[str] | None = header

    def _start(self) -> None:
        if self._header is not None:
            self._writer.writerow(self._header)
            self._header = None

    def writerows(self, rows: Iterable[Sequence[object]]) -> None:
        """Called once per answer from the service, even an empty one."""
        self._start()
        self._writer.writerows(rows)

    def finish(self) -> None:
        """The call ended well: the header, if nothing came to write it."""
        self._start()
