"""Sends composed messages to one SMTP server over a small pool of reused connections.

Each pooled connection carries one transaction at a time, so the pool size is also the
number of messages in flight. Connections open lazily, stay open between messages and are
dropped when they break; the next message through that slot opens a fresh one. The most
recently used connection is handed out first, so a light load keeps reusing one session
while the others stay closed.

Errors come out as TemporaryFailure or PermanentFailure (see failures.py). A message whose
final DATA reply was lost (a timeout, or the connection dropped, once DATA had begun) comes
out as UncertainDelivery: the server may have accepted it, and sending it again could
deliver a copy. Timeouts are RFC 5321's (4.5.3.2): five minutes for the greeting and each
command, ten for the reply to the final dot, which a busy server may well take.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, get_args

import aiosmtplib
from aiosmtplib.protocol import normalize_message_line_endings

from boletos.platform.logs import mask_email
from mailer_service.domain.errors import InvalidMailSettings
from mailer_service.domain.failures import PermanentFailure, Stage, UncertainDelivery, one_line

from .failures import classify
from .pipelining import PipeliningProtocol, pipelining
from .rate_limit import TokenBucket

__all__ = ["Security", "SendResult", "SmtpSender", "SmtpSettings"]

Security = Literal["none", "starttls", "tls"]
_SECURITY_MODES: tuple[str, ...] = get_args(Security)

# RSET and QUIT are housekeeping: a server that does not answer them quickly is treated as
# gone rather than holding up the next message or a shutdown for the full timeout.
_HOUSEKEEPING_TIMEOUT = 5.0
# How long close() waits for sends in flight before closing under them.
_CLOSE_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to reach the SMTP server.

    security: "none" (plain text), "starttls" (required: a server that does not offer it is
    an error, never a silent downgrade) or "tls" (implicit TLS, usually port 465).
    ca_file replaces the system's trusted CAs, e.g. for a private relay; verify_certificates
    False accepts any certificate and is meant for local test servers only.
    rate_per_second 0 means unlimited; the limit applies to this process's sends.
    """

    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = None
    connections: int = 8
    rate_per_second: float = 0.0
    # RFC 5321 4.5.3.2: the greeting, MAIL and RCPT get 5 minutes each...
    timeout: float = 300.0
    # ... and the reply to the message's final dot 10.
    data_timeout: float = 600.0
    verify_certificates: bool = True
    ca_file: str | None = None
    # The EHLO name; the machine's FQDN when unset.
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host or any(c.isspace() for c in self.host):
            raise InvalidMailSettings(f"SMTP host must be a host name, got {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise InvalidMailSettings(f"SMTP port must be an integer, got {self.port!r}")
        if not 1 <= self.port <= 65535:
            raise InvalidMailSettings(f"SMTP port {self.port} is out of range 1-65535")
        if self.security not in _SECURITY_MODES:
            raise InvalidMailSettings(
                f"SMTP security must be one of {', '.join(_SECURITY_MODES)}, got {self.security!r}"
            )
        if self.password is not None and not self.username:
            raise InvalidMailSettings("an SMTP password needs a username")
        if isinstance(self.connections, bool) or not isinstance(self.connections, int):
            raise InvalidMailSettings(
                f"SMTP connections must be an integer, got {self.connections!r}"
            )
        if self.connections < 1:
            raise InvalidMailSettings(f"SMTP connections must be >= 1, got {self.connections}")
        if not (math.isfinite(self.rate_per_second) and self.rate_per_second >= 0):
            raise InvalidMailSettings(
                f"SMTP rate_per_second must be >= 0 (0 = unlimited), got {self.rate_per_second}"
            )
        for name in ("timeout", "data_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidMailSettings(f"SMTP {name} must be > 0 seconds, got {value}")

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks; the password must not.
        password = None if self.password is None else "********"
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, password={password!r}, "
            f"connections={self.connections}, rate_per_second={self.rate_per_second}, "
            f"timeout={self.timeout}, data_timeout={self.data_timeout}, "
            f"verify_certificates={self.verify_certificates}, "
            f"ca_file={self.ca_file!r}, local_hostname={self.local_hostname!r})"
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    """The server's final reply to DATA: it has taken responsibility for the message."""

    code: int
    message: str


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext | None:
    if settings.security == "none":
        return None
    context = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.verify_certificates:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


_ENVELOPE_STAGES: tuple[Stage, Stage, Stage] = ("mail", "rcpt", "data")


def _envelope_commands(sender: str, recipient: str, options: list[str]) -> list[bytes]:
    """MAIL, RCPT and DATA, without aiosmtplib's address parsing (5% of the mailer's CPU per
    e-mail): send() checked the addresses, ASCII and printable with no space or bracket, so
    <address> is their quoted form."""
    mail = b" ".join(
        [b"MAIL FROM:<" + sender.encode("ascii") + b">", *(o.encode("ascii") for o in options)]
    )
    return [mail, b"RCPT TO:<" + recipient.encode("ascii") + b">", b"DATA"]


def _refusal(
    replies: Sequence[aiosmtplib.SMTPResponse], sender: str, recipient: str
) -> tuple[Stage, aiosmtplib.SMTPResponseException] | None:
    """The first of MAIL, RCPT and DATA's replies that refuses, as aiosmtplib's mail(),
    rcpt() and data() would raise it."""
    completed, will_forward = aiosmtplib.SMTPStatus.completed, aiosmtplib.SMTPStatus.will_forward
    for stage, reply in zip(_ENVELOPE_STAGES, replies, strict=False):
        if stage == "mail" and reply.code != completed:
            return "mail", aiosmtplib.SMTPSenderRefused(reply.code, reply.message, sender)
        if stage == "rcpt" and reply.code not in (completed, will_forward):
            return "rcpt", aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, recipient)
        if stage == "data" and reply.code != aiosmtplib.SMTPStatus.start_input:
            return "data", aiosmtplib.SMTPDataError(reply.code, reply.message)
    return None


@dataclass(slots=True)
class _Progress:
    """How far a message got: the stage its failure, if any, belongs to."""

    stage: Stage = "connect"


async def _envelope(
    client: aiosmtplib.SMTP,
    sender: str,
    recipient: str,
    options: list[str],
    settings: SmtpSettings,
    progress: _Progress,
) -> None:
    """MAIL, RCPT and DATA, each answered before the next is sent."""
    replies: list[aiosmtplib.SMTPResponse] = []
    commands = _envelope_commands(sender, recipient, options)
    for stage, command in zip(_ENVELOPE_STAGES, commands, strict=True):
        progress.stage = stage
        timeout = settings.data_timeout if stage == "data" else settings.timeout
        replies.append(await client.execute_command(command, timeout=timeout))
        refused = _refusal(replies, sender, recipient)
        if refused is not None:
            raise refused[1]


async def _pipelined_envelope(
    protocol: PipeliningProtocol,
    sender: str,
    recipient: str,
    options: list[str],
    settings: SmtpSettings,
    progress: _Progress,
) -> None:
    """MAIL, RCPT and DATA in one write, their replies read in order (RFC 2920). Every reply
    is read before any refusal is raised, so the session stays in step for the next message."""
    progress.stage = "mail"
    protocol.write_commands(_envelope_commands(sender, recipient, options))
    replies: list[aiosmtplib.SMTPResponse] = []
    for stage in _ENVELOPE_STAGES:
        progress.stage = stage
        timeout = settings.data_timeout if stage == "data" else settings.timeout
        try:
            replies.append(await protocol.read_response(timeout=timeout))
        except Exception:
            # A server that refuses and hangs up (421) explains the lost reply after it.
            refused = _refusal(replies, sender, recipient)
            if refused is None:
                raise
            progress.stage = refused[0]
            raise refused[1] from None
    refused = _refusal(replies, sender, recipient)
    if refused is None:
        return
    progress.stage = refused[0]
    if replies[2].code == aiosmtplib.SMTPStatus.start_input:
        # A server that starts a message for a refused sender or recipient: end it, empty.
        # The refusal stands whatever comes of that.
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            protocol.write(b".\r\n")
            await protocol.read_response(timeout=settings.data_timeout)
    raise refused[1]


async def _content(
    client: aiosmtplib.SMTP, data: bytes, reply_seconds: float
) -> aiosmtplib.SMTPResponse:
    """The message after DATA's 354, answered and refused as aiosmtplib's data() does it. Its
    line-ending pass substitutes every CRLF of a base64 body and its dot-stuffing tries a
    regex at every byte, an eighth of the mailer's CPU per e-mail; a message composed with
    CRLF endings needs neither, and a line that starts with a dot is found by a plain
    search."""
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    if not _crlf_only(data):
        data = normalize_message_line_endings(data)
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    try:
        # Nothing runs between the write and read_response's wait, which marks the reply
        # expected: the server's answer cannot arrive unclaimed.
        protocol.write(stuffed + b".\r\n")
        reply = await protocol.read_response(timeout=reply_seconds)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise
    if reply.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(reply.code, reply.message)
    return reply


def _crlf_only(data: bytes) -> bool:
    """Every line ends in CRLF, the last one included: no bare CR or LF anywhere."""
    crlf = data.count(b"\r\n")
    return data.count(b"\n") == crlf == data.count(b"\r") and data.endswith(b"\r\n")


def _check_address(address: str, role: str, *, allow_empty: bool = False) -> None:
    """Refuse what cannot go on an SMTP command line before a connection is spent on it."""
    if not isinstance(address, str):
        raise TypeError(f"{role} must be a str, got {type(address).__name__}")
    if not address and allow_empty:
        return  # the null reverse-path, MAIL FROM:<>
    if (
        not address
        or not address.isascii()
        or not address.isprintable()
        # Printable ASCII has one space character: no need to ask each character.
        or " " in address
        or "<" in address
        or ">" in address
    ):
        raise PermanentFailure(
            0,
            one_line(
                f"envelope rejected before sending: {role} {address!r} is not usable",
                personal=(address,),
            ),
            stage="envelope",
        )


def _is_stale(exc: BaseException, stage: Stage) -> bool:
    """Did a reused connection turn out to be dead before anything was handed over?

    A disconnect during MAIL or RCPT, or a 421 ("closing channel") to MAIL, means the
    server had dropped or was dropping an idle session; no message was transferred, so
    trying once more on a fresh connection cannot duplicate anything.
    """
    if stage in ("mail", "rcpt") and isinstance(exc, ConnectionError):
        return True
    return stage == "mail" and isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == 421


def _reply_lost(exc: BaseException) -> bool:
    """No reply at all during DATA: a timeout or a dropped connection, not a refusal. The
    message may have been handed over whole; a refusal would have come as a reply."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return False
    return isinstance(
        exc, TimeoutError | ConnectionError | aiosmtplib.SMTPServerDisconnected | OSError
    )


class SmtpSender:
    """Delivers messages through a pool of at most `settings.connections` connections.

    Use as `async with SmtpSender(settings) as sender:` or call start() and close().
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._bucket = (
            TokenBucket(settings.rate_per_second) if settings.rate_per_second > 0 else None
        )
        self._idle: asyncio.LifoQueue[aiosmtplib.SMTP] = asyncio.LifoQueue()
        self._clients: list[aiosmtplib.SMTP] = []
        self._started = False
        self._closed = False

    def __repr__(self) -> str:
        return f"SmtpSender({self.settings!r})"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Prepare the pool; connections open on first use (see probe() to check early)."""
        if self._started:
            raise RuntimeError("SmtpSender already started")
        settings = self.settings
        # Both can block (a DNS lookup, reading the CA bundle): done once, off the loop.
        local_hostname = settings.local_hostname or await asyncio.to_thread(socket.getfqdn)
        tls_context = await asyncio.to_thread(_tls_context, settings)
        for _ in range(settings.connections):
            client = aiosmtplib.SMTP(
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                local_hostname=local_hostname,
                timeout=settings.timeout,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                tls_context=tls_context,
            )
            self._clients.append(client)
            self._idle.put_nowait(client)
        self._started = True

    async def close(self) -> None:
        """Let sends in flight finish (up to the timeout), then QUIT every connection."""
        if self._closed:
            return
        self._closed = True
        if not self._started:
            return
        held: list[aiosmtplib.SMTP] = []
        try:
            async with asyncio.timeout(min(self.settings.timeout, _CLOSE_WAIT_SECONDS)):
                while len(held) < len(self._clients):
                    held.append(await self._idle.get())
        except TimeoutError:
            pass  # whatever is still busy is closed under its send, which then fails
        await asyncio.gather(*(self._quit(client) for client in held))
        for client in self._clients:
            client.close()
        # Sends still queued for a connection must wake up to find the sender closed.
        for client in held:
            self._idle.put_nowait(client)

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        if client.is_connected:
            try:
                await client.quit(timeout=_HOUSEKEEPING_TIMEOUT)
            except (aiosmtplib.SMTPException, OSError):
                pass  # closing anyway; a polite goodbye is all that is lost
        client.close()

    def _check_usable(self) -> None:
        if not self._started:
            raise RuntimeError("SmtpSender is not started; call start() or use 'async with'")
        if self._closed:
            raise RuntimeError("SmtpSender is closed")

    async def _acquire(self) -> aiosmtplib.SMTP:
        self._check_usable()
        client = await self._idle.get()
        if self._closed:
            self._idle.put_nowait(client)
            raise RuntimeError("SmtpSender is closed")
        return client

    async def send(self, sender: str, recipient: str, data: bytes) -> SendResult:
        """Send one message (CRLF line endings, as composed) to one recipient.

        Returns the server's acceptance; raises TemporaryFailure or PermanentFailure.
        """
        _check_address(sender, "sender", allow_empty=True)
        _check_address(recipient, "recipient")
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        self._check_usable()
        if self._bucket is not None:
            # Before taking a connection, so waiting for the rate does not hold one idle.
            await self._bucket.acquire()
        client = await self._acquire()
        try:
            return await self._deliver(client, sender, recipient, data)
        finally:
            self._idle.put_nowait(client)

    async def probe(self) -> None:
        """Check that a connection, TLS and login work; raises DeliveryFailure if not.

        For startup and health checks: a wrong password shows up here, not on the first
        message.
        """
        client = await self._acquire()
        try:
            if client.is_connected:
                try:
                    await client.noop()
                    return
                except (aiosmtplib.SMTPException, OSError):
                    client.close()  # stale: find out whether a new one can be opened
            try:
                await self._open(client)
            except asyncio.CancelledError:
                client.close()
                raise
            except Exception as exc:
                client.close()
                failure = classify(exc, "connect", secret=self.settings.password)
                if failure is None:
                    raise
                raise failure from None
        finally:
            self._idle.put_nowait(client)

    async def _open(self, client: aiosmtplib.SMTP) -> None:
        # connect() also negotiates TLS and logs in, as configured.
        await client.connect()
        if client.is_ehlo_or_helo_needed:
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                if not client.is_connected:
                    raise
                await client.helo()

    async def _deliver(
        self, client: aiosmtplib.SMTP, sender: str, recipient: str, data: bytes
    ) -> SendResult:
        for attempt in (1, 2):
            reused = client.is_connected
            progress = _Progress()
            try:
                if not reused:
                    await self._open(client)
                options = self._mail_options(client, data)
                protocol = pipelining(client)
                if protocol is not None:
                    await _pipelined_envelope(
                        protocol, sender, recipient, options, self.settings, progress
                    )
                else:
                    await _envelope(client, sender, recipient, options, self.settings, progress)
                reply = await _content(client, data, self.settings.data_timeout)
                return SendResult(reply.code, reply.message)
            except asyncio.CancelledError:
                # A command may be half-sent or its reply unread: the session is unusable.
                client.close()
                raise
            except Exception as exc:
                stage = progress.stage
                if reused and attempt == 1 and _is_stale(exc, stage):
                    client.close()
                    continue
                if stage == "data" and _reply_lost(exc):
                    client.close()
                    raise UncertainDelivery(
                        0,
                        one_line(f"DATA: no reply to the message after it was sent: {exc!r}"),
                        stage="data",
                    ) from None
                shown = {"mail": f"<{sender}>", "rcpt": f"<{mask_email(recipient)}>"}
                failure = classify(
                    exc,
                    stage,
                    subject=shown.get(stage, ""),
                    secret=self.settings.password,
                    personal=(recipient,),
                )
                if failure is None:
                    client.close()  # not an SMTP outcome: the session's state is unknown
                    raise
                await self._reset(client)
                # The original exception adds nothing the reason lacks and could carry text
                # that was never masked; the failure stands alone.
                raise failure from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    @staticmethod
    def _mail_options(client: aiosmtplib.SMTP, data: bytes) -> list[str]:
        options = []
        if client.supports_extension("size"):
            # Lets the server refuse an oversized message before it is transferred.
            options.append(f"SIZE={len(data)}")
        if not data.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        return options

    @staticmethod
    async def _reset(client: aiosmtplib.SMTP) -> None:
        """Clear a refused transaction so the connection can carry the next message."""
        if not client.is_connected:
            return
        if isinstance(client.protocol, PipeliningProtocol) and client.protocol.owed:
            # Replies still on their way would answer the RSET: the session is out of step.
            client.close()
            return
        try:
            await client.rset(timeout=_HOUSEKEEPING_TIMEOUT)
        except (aiosmtplib.SMTPException, OSError):
            client.close()
