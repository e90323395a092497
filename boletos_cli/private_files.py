"""Files the CLI writes that hold personal data (a remessa's CPFs and addresses, a boleto's
payer, a report): readable by their owner only, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def open_private(path: Path, mode: str, **options: Any) -> IO[Any]:
    """`path` opened for writing as `mode` ("wb" or "w"), created or truncated 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        # A file that existed keeps its mode through O_TRUNC: set it again.
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, mode, **options)
    except BaseException:
        os.close(fd)
        raise
