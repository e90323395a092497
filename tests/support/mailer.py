"""The mailer service in-process, and a real SMTP server (aiosmtpd) that keeps what it gets."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from boletos.v1 import mailer_pb2_grpc
from mailer_service.app import run
from mailer_service.config import Settings
from tests.support.processes import free_port
from tests.support.running import running_service


@dataclass
class Sink:
    """An SMTP server's handler: keeps every accepted message; `reply` may refuse some."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    reply: Callable[[str], str | None] = lambda _rcpt: None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.reply(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        # The controller leaves decode_data off, so the server hands over the bytes received.
        assert isinstance(envelope.content, bytes)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"


@contextlib.contextmanager
def smtp_sink(sink: Sink, port: int | None = None) -> Iterator[Controller]:
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@dataclass
class RunningMailer:
    address: str
    stub: mailer_pb2_grpc.MailerServiceStub


class Calendar:
    """A day that a test moves, for the mailer's notice schedule to go by."""

    def __init__(self, day: dt.date) -> None:
        self.day = day

    def __call__(self) -> dt.date:
        return self.day

    def move_to(self, day: dt.date) -> None:
        self.day = day


@contextlib.asynccontextmanager
async def running_mailer(
    database_url: str,
    nats_url: str,
    boleto_addr: str,
    smtp_port: int,
    today: Callable[[], dt.date] | None = None,
    /,
    **env: str,
) -> AsyncIterator[RunningMailer]:
    """`today`, when given, is the calendar the mailer's notices go by instead of Brasília's
    (positional, so that settings passed as `**env` can never be taken for it)."""
    settings = {
        "BOLETO_ADDR": boleto_addr,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "MAIL_RETRY_BASE_SECONDS": "0.2",
        **env,
    }
    runner = run if today is None else functools.partial(run, today=today)
    async with running_service(runner, Settings.from_env, database_url, nats_url, settings) as (
        address,
        channel,
        _settings,
    ):
        yield RunningMailer(address, mailer_pb2_grpc.MailerServiceStub(channel))
