"""The local bank's desk: the remessas in a directory it has not answered yet, the retorno files
it writes for them, and which of those have reached the boleto service.

A remessa `NAME.rem` is answered by the retorno `NAME.ret` in the retornos directory: the file's
existence is the record, so a bank stopped and started again answers nothing twice. Once the
boleto service has taken a retorno, an empty `NAME.ret.sent` beside it says so; a retorno
without one is sent again (the service applies a file once, however often it gets it).

Retornos echo every payer's name and CPF or CNPJ from the remessa: the directory is made
0700 and every file 0600, each written whole or not at all (a temporary file, then a rename).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .decisions import DEFAULT_PAID_SHARE, Answer, answer

REMESSA_SUFFIX = ".rem"
RETORNO_SUFFIX = ".ret"
SENT_SUFFIX = ".sent"


@dataclass(frozen=True)
class Answered:
    remessa: Path
    retorno: Path
    answer: Answer


def retorno_name(remessa_name: str) -> str:
    """`001_1234_123456_000042.ret` for `001_1234_123456_000042.rem`."""
    return Path(remessa_name).stem + RETORNO_SUFFIX


def unanswered(remessas: Path, retornos: Path) -> list[Path]:
    """The remessas in `remessas` with no retorno in `retornos` yet, oldest name first (a
    bank's files are named by NSA). Hidden files are writes still under way."""
    if not remessas.is_dir():
        return []
    return sorted(
        path
        for path in remessas.iterdir()
        if path.suffix.lower() == REMESSA_SUFFIX
        and not path.name.startswith(".")
        and path.is_file()
        and not (retornos / retorno_name(path.name)).exists()
    )


def unsent(retornos: Path) -> list[Path]:
    """The retornos the boleto service has not confirmed taking, oldest name first."""
    if not retornos.is_dir():
        return []
    return sorted(
        path
        for path in retornos.glob(f"*{RETORNO_SUFFIX}")
        if not path.name.startswith(".") and not sent_marker(path).exists()
    )


def sent_marker(retorno: Path) -> Path:
    return retorno.with_name(retorno.name + SENT_SUFFIX)


def ensure_private_directory(directory: Path) -> None:
    """Makes `directory` 0700 when it does not exist; one that does is left as its owner set
    it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def answer_remessa(
    remessa: Path, retornos: Path, paid_share: float = DEFAULT_PAID_SHARE
) -> Answered:
    """Writes the retorno for `remessa`. Raises NotARemessa for a file that is none, OSError
    when a file cannot be read or written."""
    # Latin-1: every byte reads, so a stray one is refused as a bad record, not a crash.
    text = remessa.read_bytes().decode("latin-1")
    result = answer(text, paid_share)
    ensure_private_directory(retornos)
    target = retornos / retorno_name(remessa.name)
    write_private(target, result.text.encode("latin-1"))
    return Answered(remessa, target, result)


def mark_sent(retorno: Path) -> None:
    write_private(sent_marker(retorno), b"")


def write_private(path: Path, data: bytes) -> None:
    """`path` holds `data` whole, mode 0600, or is as it was."""
    # mkstemp creates the file 0600 whatever the umask.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
