"""What the local stack keeps on disk (stores, Maildir, remessas, retornos, secrets) holds
personal data: every directory it makes is 0700 and every file 0600."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
from rich.console import Console

from boletos_cli.stack.children import Child
from boletos_cli.stack.private import make_private
from tests.support.processes import free_port, python_env, wait_for_port

# What a service does under the stack: a SQLite store in WAL mode, a remessa in a new folder.
WRITER = """
import sqlite3, sys, pathlib
root = pathlib.Path(sys.argv[1])
db = sqlite3.connect(root / "boleto.db")
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE t (x)")
db.execute("INSERT INTO t VALUES (1)")
db.commit()
(root / "remessas" / "bank-001").mkdir(parents=True)
(root / "remessas" / "bank-001" / "CB010101.REM").write_text("remessa")
db.close()
"""


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _private(root: Path) -> dict[str, int]:
    """What is not private under root: empty when all is."""
    return {
        name: mode
        for name, mode in _modes(root).items()
        if mode & 0o077 or mode != (0o700 if (root / name).is_dir() else mode & 0o600)
    }


async def test_what_a_stack_child_writes_is_its_owners_alone(tmp_path: Path) -> None:
    root = tmp_path / "stack"
    make_private(root)
    child = Child(
        "writer", [sys.executable, "-c", WRITER, str(root)], python_env(), Console(), "cyan", 8
    )
    old = os.umask(0o022)  # what a shell usually has: files 0644, directories 0755
    try:
        await child.start()
        assert await child.wait() == 0
    finally:
        os.umask(old)
    names = set(_modes(root))
    assert {"boleto.db", "remessas/bank-001/CB010101.REM"} <= names
    assert _private(root) == {}


def test_an_old_data_directory_is_made_private(tmp_path: Path) -> None:
    root = tmp_path / "stack"
    (root / "mail" / "new").mkdir(parents=True, mode=0o755)
    (root / "retornos").mkdir(mode=0o755)
    for path in (root / "ingest.db", root / "mail" / "new" / "1.M1", root / "retornos" / "R.RET"):
        path.write_text("personal data")
        path.chmod(0o644)
    (root / "link").symlink_to("/etc/hostname")
    root.chmod(0o755)
    make_private(root)
    assert {k: v for k, v in _private(root).items() if k != "link"} == {}
    assert stat.S_IMODE(Path("/etc/hostname").stat().st_mode) & 0o044  # not followed


async def test_the_smtp_catcher_keeps_messages_private(tmp_path: Path) -> None:
    port = free_port()
    maildir = tmp_path / "mail"
    catcher = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "boletos_cli.stack.smtp_catcher", "--port", str(port),
        "--maildir", str(maildir),
        env=python_env(),
    )  # fmt: skip
    try:
        wait_for_port(port)
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            message = EmailMessage()
            message["From"] = "cobranca@example.com"
            message["To"] = "devedor@example.com"
            message["Subject"] = "Boleto"
            message.set_content("Segue o boleto.")
            await smtp.send_message(message)
    finally:
        catcher.terminate()
        assert await asyncio.wait_for(catcher.wait(), 10) == 0
    assert len(list((maildir / "new").iterdir())) == 1
    assert _private(maildir) == {}
