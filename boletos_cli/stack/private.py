"""The local stack's data directory holds personal data (the stores, the Maildir, remessas,
retornos) and its secrets: it is its owner's alone, directories 0700 and files 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# What the stack's children run under: whatever they create (SQLite files and their WAL,
# NATS's store, Maildir messages, remessas, retornos) is born private.
PRIVATE_UMASK = 0o077


def make_private(root: Path) -> None:
    """Creates `root` private, and takes group and other access away from anything an
    earlier version left under it, so an old data directory is as private as a new one."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    root.chmod(0o700)
    for directory, dirs, files in os.walk(root):
        for name in dirs:
            _restrict(Path(directory) / name)
        for name in files:
            _restrict(Path(directory) / name)


def _restrict(path: Path) -> None:
    mode = path.lstat().st_mode
    # A link's own mode means nothing, and its target may be outside the directory.
    if stat.S_ISLNK(mode):
        return
    if mode & 0o077:
        path.chmod(stat.S_IMODE(mode) & 0o700)
