"""``python -m boletos_cli.stack.smtp_catcher --port P --maildir DIR``: an SMTP server that keeps
every message it accepts as a file in a Maildir (DIR/new), so a person can open what the
local stack sent; with --web-port, also in a browser (mail_viewer.py). Compose uses Mailpit
in its place."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
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

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        """Offers PIPELINING (RFC 2920), as the mail servers it stands for do, so a local run
        sends mail the way production does. aiosmtpd reads commands from a buffered stream,
        one after another, and so takes pipelined ones as they come; it only does not say so."""
        # aiosmtpd leaves recording the name to a hook of this form.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        name = f"{time.time_ns()}.M{next(self._names)}P{self._unique}"
        tmp = self._path / "tmp" / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content if isinstance(content, bytes) else content.encode())
        os.rename(tmp, self._path / "new" / name)
        return "250 Message accepted for delivery"


class CatcherSMTP(SMTP):
    """aiosmtpd's server, with DATA read in blocks and plain addresses read directly.

    aiosmtpd reads DATA one line at a time in Python, an await for each of the hundred or so
    lines of a boleto's e-mail, and parses every MAIL and RCPT address with the email
    package's header parser. With those, the catcher spent nearly as much CPU per message as
    the mailer sending it, on the same two cores of a local run. Everything else (commands,
    states, their limits) is aiosmtpd's. Unlike aiosmtpd, DATA lines longer than 1,000 bytes
    are taken as they come (the catcher keeps what the mailer sent, it does not judge it), and
    the content is always bytes: the catcher never asks aiosmtpd to decode it.
    """

    # The reader's limit. aiosmtpd sizes it to one line, and a reader holding twice its limit
    # stops reading the socket until drained: a message came in reads of about 2 KB.
    line_length_limit = 256 * 1024

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        envelope = self.envelope
        assert envelope is not None
        if not envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content = await self._read_data()
        if content is None:
            self._set_post_data_state()
            await self.push("552 Error: Too much mail data")
            return
        envelope.content = envelope.original_content = content
        status = await self.event_handler.handle_DATA(self, self.session, envelope)
        self._set_post_data_state()
        await self.push(status)

    async def _read_data(self) -> bytes | None:
        """The message without its dot-stuffing; None when it was over data_size_limit (then
        read to its end and dropped, as aiosmtpd does, so the connection can go on)."""
        reader = self._reader
        limit = self.data_size_limit
        data = bytearray()
        too_much = False
        while True:
            try:
                data += await reader.readuntil(b".\r\n")
            except asyncio.LimitOverrunError as error:
                # No terminator within the reader's line limit: take what cannot hold one.
                data += await reader.readexactly(error.consumed)
            else:
                end = len(data) - 3
                # The end is a dot alone on its line: at the start or right after a CRLF.
                if end == 0 or data[end - 2 : end] == b"\r\n":
                    break
            if limit and len(data) > limit:
                too_much = True
                del data[:-2]  # enough to tell whether the next dot starts a line
        if too_much or (limit and end > limit):
            return None
        return (b"\r\n" + data[:end]).replace(b"\r\n.", b"\r\n")[2:]

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_ADDRESS.match(arg)
        if plain is None or (
            self.local_part_limit and plain.group(1).find("@") > self.local_part_limit
        ):
            return super()._getaddr(arg)
        return plain.group(1), arg[plain.end() :]


# An address the email package's parser gives back unchanged (dot-atoms on both sides), then
# the end or one space before the parameters, which the parser drops.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(
    rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?:\Z| (?=[^\s(]))"
)


class CatcherController(Controller):
    def factory(self) -> SMTP:
        return CatcherSMTP(self.handler, **self.SMTP_kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_cli.stack.smtp_catcher")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--web-port", type=int, help="serve the e-mails on this HTTP port too")
    args = parser.parse_args(argv)
    controller = CatcherController(
        MaildirHandler(args.maildir),
        # Every SMTP command is a round trip through the loop; uvloop's costs less per trip.
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
