"""``python -m boletos_cli.stack.smtp_catcher --port P --maildir DIR``: an SMTP server that keeps
every message it accepts as a file in a Maildir (DIR/new), so a person can open what the
local stack sent; with --web-port, also in a browser (mail_viewer.py). Compose uses Mailpit
in its place."""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import threading
import time
from pathlib import Path

import uvloop
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from boletos_cli.stack import mail_viewer


class MaildirHandler:
    """Writes each message to tmp/ and renames it into new/, as Maildir readers expect. No
    fsync, unlike mailbox.Maildir.add: this is a local inspection tool, and syncing every
    message made the catcher the slowest part of a local run."""

    def __init__(self, path: Path) -> None:
        # The messages carry debtors' names, ids and boletos: the owner's to read alone.
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(mode=0o700, exist_ok=True)
        self._path = path
        self._names = itertools.count()
        self._unique = f"{os.getpid()}_{socket.gethostname().replace('/', '_')}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        name = f"{time.time_ns()}.M{next(self._names)}P{self._unique}"
        tmp = self._path / "tmp" / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content if isinstance(content, bytes) else content.encode())
        os.rename(tmp, self._path / "new" / name)
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_cli.stack.smtp_catcher")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--web-port", type=int, help="serve the e-mails on this HTTP port too")
    args = parser.parse_args(argv)
    controller = Controller(
        MaildirHandler(args.maildir),
        # aiosmtpd handles every command and DATA line in Python; uvloop's loop takes about
        # a sixth off the catcher's CPU per message.
        loop=uvloop.new_event_loop(),
        hostname=args.host,
        port=args.port,
        # Boletos with their PDF are small; anything past this is a mistake, not a boleto.
        data_size_limit=10 * 1024 * 1024,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    viewer = mail_viewer.serve(args.maildir, args.host, args.web_port) if args.web_port else None
    print(
        f"smtp catcher on {args.host}:{args.port}, messages in {args.maildir / 'new'}"
        + (f", in a browser at http://{args.host}:{args.web_port}/" if args.web_port else ""),
        flush=True,
    )
    stop.wait()
    if viewer is not None:
        viewer.shutdown()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
