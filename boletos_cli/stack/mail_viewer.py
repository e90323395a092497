"""The local stack's e-mails in a browser: the SMTP catcher's Maildir served on a loopback
port, newest first, each message with its headers, its text and HTML bodies (the HTML in a
sandboxed frame, scripts and remote content off), and its attachments to open or download
(a boleto's PDF opens in the browser's own viewer). Compose runs Mailpit for the same.

Everything shown comes from messages a client's file filled in, so every value is escaped,
and a message is only ever found by a plain file name in the Maildir's new/, never by a
path."""

from __future__ import annotations

import email
import email.policy
import html
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

# The list shows the newest messages; a local run of a million debts has a million files.
LISTED = 500
# What a page may load: its own styles only; the HTML body's frame gets nothing at all.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self'"
_STYLE = (
    "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;width:100%}td,th{padding:.3em .6em;text-align:left;"
    "border-bottom:1px solid #ddd;vertical-align:top}tr:hover{background:#f6f6f6}"
    "pre{white-space:pre-wrap;background:#f8f8f8;padding:1em;border:1px solid #eee}"
    "iframe{width:100%;height:32em;border:1px solid #ddd}dt{font-weight:bold}"
)


@dataclass(frozen=True)
class Part:
    number: int
    filename: str
    content_type: str
    size: int


class Maildir:
    def __init__(self, root: Path) -> None:
        self._new = root / "new"

    def names(self) -> list[str]:
        """Newest first (the catcher names files by the nanosecond they arrived)."""
        try:
            found = [p.name for p in self._new.iterdir() if not p.name.startswith(".")]
        except FileNotFoundError:
            return []
        return sorted(found, reverse=True)

    def _file(self, name: str) -> Path | None:
        """The message's file; None for a name that is not one of new/'s plain files (a
        slash, a dot file, '..')."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self._new / name
        return path if path.is_file() else None

    def read(self, name: str) -> EmailMessage | None:
        raw = self.raw(name)
        if raw is None:
            return None
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def raw(self, name: str) -> bytes | None:
        path = self._file(name)
        return path.read_bytes() if path is not None else None


def attachments(message: EmailMessage) -> list[Part]:
    return [
        Part(n, part.get_filename() or f"part-{n}", part.get_content_type(), len(_payload(part)))
        for n, part in enumerate(message.iter_attachments())
    ]


def _payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html lang='pt-BR'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def list_page(maildir: Maildir) -> bytes:
    names = maildir.names()
    rows = []
    for name in names[:LISTED]:
        message = maildir.read(name)
        if message is None:
            continue
        link = f"/m/{quote(name)}"
        subject = html.escape(str(message.get("Subject", "(no subject)")))
        rows.append(
            "<tr>"
            f"<td>{html.escape(str(message.get('Date', '')))}</td>"
            f"<td>{html.escape(str(message.get('To', '')))}</td>"
            f"<td><a href='{link}'>{subject}</a></td>"
            f"<td>{len(attachments(message))}</td>"
            "</tr>"
        )
    more = f"<p>The newest {LISTED} of {len(names)}.</p>" if len(names) > LISTED else ""
    table = (
        "<table><thead><tr><th>date</th><th>to</th><th>subject</th><th>attachments</th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No e-mails yet.</p>"
    )
    return _page("E-mails", f"<h1>E-mails ({len(names)})</h1>{more}{table}")


def message_page(name: str, message: EmailMessage) -> bytes:
    base = f"/m/{quote(name)}"
    headers = "".join(
        f"<dt>{field}</dt><dd>{html.escape(str(message.get(field, '')))}</dd>"
        for field in ("From", "To", "Subject", "Date", "Message-ID")
    )
    parts = "".join(
        f"<li><a href='{base}/part/{p.number}'>{html.escape(p.filename)}</a> "
        f"({html.escape(p.content_type)}, {p.size:,} bytes) "
        f"<a href='{base}/part/{p.number}?download=1'>download</a></li>"
        for p in attachments(message)
    )
    text = _body(message, "plain")
    rich = _body(message, "html")
    sections = [
        f"<p><a href='/'>all e-mails</a> · <a href='{base}/raw'>download .eml</a></p>",
        f"<h1>{html.escape(str(message.get('Subject', '(no subject)')))}</h1><dl>{headers}</dl>",
    ]
    if parts:
        sections.append(f"<h2>Attachments</h2><ul>{parts}</ul>")
    if rich:
        # srcdoc keeps it off this origin's URLs; sandbox without flags runs no script,
        # submits no form and opens nothing.
        sections.append(
            f"<h2>HTML</h2><iframe sandbox title='HTML body' srcdoc='{html.escape(rich)}'></iframe>"
        )
    if text:
        sections.append(f"<h2>Text</h2><pre>{html.escape(text)}</pre>")
    return _page(str(message.get("Subject", "E-mail")), "".join(sections))


class _Handler(BaseHTTPRequestHandler):
    maildir: Maildir

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        parts = [unquote(p) for p in path.split("/") if p]
        if not parts:
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", list_page(self.maildir))
            return
        if parts[0] != "m" or len(parts) < 2:
            return self._missing()
        name = parts[1]
        if len(parts) == 2:
            message = self.maildir.read(name)
            if message is None:
                return self._missing()
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", message_page(name, message))
        elif parts[2:] == ["raw"]:
            raw = self.maildir.raw(name)
            if raw is None:
                return self._missing()
            self._send(HTTPStatus.OK, "message/rfc822", raw, f"{name}.eml", attach=True)
        elif len(parts) == 4 and parts[2] == "part" and parts[3].isdecimal():
            self._part(name, int(parts[3]), download="download=1" in query)
        else:
            self._missing()

    def _part(self, name: str, number: int, download: bool) -> None:
        message = self.maildir.read(name)
        found = list(message.iter_attachments()) if message is not None else []
        if number >= len(found):
            return self._missing()
        part = found[number]
        filename = part.get_filename() or f"part-{number}"
        # Only a PDF opens in the page; anything else is a download, never rendered here.
        inline = part.get_content_type() == "application/pdf" and not download
        content_type = part.get_content_type() if inline else "application/octet-stream"
        self._send(HTTPStatus.OK, content_type, _payload(part), filename, attach=not inline)

    def _missing(self) -> None:
        self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"no such e-mail\n")

    def _send(
        self,
        status: HTTPStatus,
        content_type: str,
        body: bytes,
        filename: str = "",
        *,
        attach: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", PAGE_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        if filename:
            how = "attachment" if attach else "inline"
            self.send_header("Content-Disposition", f"{how}; filename*=UTF-8''{quote(filename)}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Requests are not news; the catcher's output stays about mail."""


def serve(maildir: Path, host: str, port: int) -> ThreadingHTTPServer:
    """Serves `maildir` on a thread of its own until shutdown()."""
    handler = type("MailHandler", (_Handler,), {"maildir": Maildir(maildir)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="mail-viewer", daemon=True).start()
    return server
