"""The SMTP delivery adapter against a real aiosmtpd server on a loopback port.

Each test starts its own server (aiosmtpd's Controller runs it on a thread with its own
event loop) with a handler that records what arrived and can be told to refuse. Every test
runs twice: against a server that offers PIPELINING, which the sender then uses, and against
one that does not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from boletos.platform.logs import mask_email
from mailer_service.delivery import SendResult, SmtpSender, SmtpSettings
from mailer_service.domain import BoletoMail, InvalidMailSettings, MailSettings, compose_mail
from mailer_service.domain.backoff import retry_delay
from mailer_service.domain.failures import DeliveryFailure, PermanentFailure, TemporaryFailure
from tests.support.processes import free_port

# Generous against a loaded CI machine, far below anything a hung test would reach.
TEST_TIMEOUT = 15.0
SENDER = "cobranca@example.com"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
MAIL_SETTINGS = MailSettings(from_address="Cobranças Exemplo <cobranca@example.com>")
PASSWORD = "s3cret-Pa55word"
COMPOSED_AT = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any
    mail_options: list[str]


# Whether the sinks of the running test offer PIPELINING (RFC 2920); see _both_ways.
_OFFER_PIPELINING = {"on": False}


@pytest.fixture(autouse=True, params=["one command at a time", "pipelined"])
def _both_ways(request: pytest.FixtureRequest) -> Iterator[None]:
    _OFFER_PIPELINING["on"] = request.param == "pipelined"
    yield
    _OFFER_PIPELINING["on"] = False


@dataclass
class Sink:
    """Records every accepted message; `refuse` scripts one-shot replies per command."""

    messages: list[Received] = field(default_factory=list)
    ehlo_count: int = 0
    # e.g. {"RCPT": ["451 4.7.1 try later"]}: the next RCPT gets that reply, once.
    refuse: dict[str, list[str]] = field(default_factory=dict)
    # Only these recipients get the scripted RCPT reply; empty means any recipient.
    refuse_only: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _scripted(self, command: str, address: str | None = None) -> str | None:
        with self.lock:
            if command == "RCPT" and self.refuse_only and address not in self.refuse_only:
                return None
            replies = self.refuse.get(command)
            return replies.pop(0) if replies else None

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.ehlo_count += 1
        # The new-style hook takes over what the server would otherwise record itself.
        session.host_name = hostname
        if _OFFER_PIPELINING["on"]:
            # aiosmtpd reads commands from a buffered stream, one after another, so it takes
            # pipelined ones as they come; it only does not say so.
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self._scripted("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self._scripted("RCPT", address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self._scripted("DATA")
        if reply:
            return reply
        with self.lock:
            received = Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                session.peer,
                list(envelope.mail_options),
            )
            self.messages.append(received)
        return "250 2.0.0 Ok: queued"


class Authenticator:
    def __init__(self, login: str, password: str) -> None:
        self.expected = LoginPassword(login.encode(), password.encode())
        self.attempts = 0

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.attempts += 1
        ok = isinstance(auth_data, LoginPassword) and tuple(auth_data) == tuple(self.expected)
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(handler: Sink, port: int | None = None, **kwargs: Any) -> Iterator[Controller]:
    controller = Controller(
        handler, hostname="127.0.0.1", port=port or free_port(), ready_timeout=5.0, **kwargs
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def settings_for(port: int, **overrides: Any) -> SmtpSettings:
    # A fixed EHLO name spares a DNS lookup of this machine's name.
    base = SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        timeout=5.0,
        connections=2,
        local_hostname="mailer.test",
    )
    return replace(base, **overrides)


def boleto_message(index: int, email: str | None = None) -> tuple[str, str, bytes]:
    boleto = BoletoMail(
        debt_id=f"528c1f0e-1921-42a9-931d-{index:012d}",
        upload_id="upload-1",
        payer_name=f"Pagador Número {index}",
        email=email or f"payer{index}@example.com",
        amount_cents=100_000 + index,
        due_date=dt.date(2026, 12, 1),
        digitable_line="00190.00009 01234.567890 12345.678901 2 12340000123456",
        nosso_numero=f"{index:017d}",
    )
    composed = compose_mail(boleto, PDF, MAIL_SETTINGS, date=COMPOSED_AT)
    return composed.envelope.sender, composed.envelope.recipient, composed.data


# --- delivery and connection reuse ---------------------------------------------------------


async def test_messages_arrive_intact_over_few_connections() -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=3)) as sender,
        ):
            messages = [boleto_message(i) for i in range(50)]
            # Lines that start with a dot must survive dot-stuffing; 8-bit text needs
            # BODY=8BITMIME, which the sink advertises.
            tricky = (
                b"From: a@example.com\r\nTo: b@example.com\r\nSubject: dots\r\n\r\n"
                b".\r\n..two\r\n.leading dot\r\nacentua\xc3\xa7\xc3\xa3o em UTF-8\r\n"
            )
            messages.append((SENDER, "dots@example.com", tricky))

            results = await asyncio.gather(*(sender.send(*m) for m in messages))

            assert all(r == SendResult(250, "2.0.0 Ok: queued") for r in results)
            assert sink.ehlo_count <= 3
            received = {m.rcpt_tos[0]: m for m in sink.messages}
            assert len(sink.messages) == len(messages) == len(received)
            for mail_from, recipient, data in messages:
                assert data.endswith(b"\r\n")
                got = received[recipient]
                assert (got.mail_from, got.rcpt_tos) == (mail_from, [recipient])
                assert got.content == data
                assert f"SIZE={len(data)}" in got.mail_options
            assert "BODY=8BITMIME" in received["dots@example.com"].mail_options
            assert "BODY=8BITMIME" not in received["payer1@example.com"].mail_options

            # Sent one by one, messages reuse one open session instead of opening more.
            before = sink.ehlo_count
            for i in range(10):
                await sender.send(*boleto_message(100 + i))
            assert sink.ehlo_count == before
            assert len(sink.messages) == len(messages) + 10


@pytest.mark.parametrize(
    ("given", "arrives"),
    [
        # Bare LF and CR lines go out as CRLF, the way RFC 5321 carries every line.
        (b"Subject: lf\n\nline one\nline two", b"Subject: lf\r\n\r\nline one\r\nline two\r\n"),
        (b"Subject: cr\r\rbody\r\n", b"Subject: cr\r\n\r\nbody\r\n"),
        # A dot on the first line is stuffed too, not only after a line break.
        (b".first\r\n\r\n.body\r\n", b".first\r\n\r\n.body\r\n"),
        (b"Subject: mixed\r\n\r\n.a\n.b\r\n", b"Subject: mixed\r\n\r\n.a\r\n.b\r\n"),
    ],
)
async def test_any_message_is_carried_with_crlf_endings_and_its_dots(
    given: bytes, arrives: bytes
) -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=1)) as sender,
        ):
            assert (await sender.send(SENDER, "lines@example.com", given)).code == 250
            assert [m.content for m in sink.messages] == [arrives]


async def test_concurrent_sessions_never_exceed_the_pool() -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=4)) as sender,
        ):
            await asyncio.gather(*(sender.send(*boleto_message(i)) for i in range(60)))
            peers = {m.peer for m in sink.messages}
            assert len(sink.messages) == 60
            assert 1 <= len(peers) <= 4
            assert sink.ehlo_count == len(peers)


# --- classification of refusals --------------------------------------------------------------


async def test_greylisted_recipient_is_temporary_then_delivered_on_retry() -> None:
    sink = Sink(refuse={"RCPT": ["451 4.7.1 Greylisted, please try again later"]})
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=1)) as sender,
        ):
            message = boleto_message(1)
            with pytest.raises(TemporaryFailure) as caught:
                await sender.send(*message)
            failure = caught.value
            assert failure.smtp_code == 451
            assert failure.stage == "rcpt"
            assert failure.retryable
            assert "Greylisted" in failure.reason and "451" in failure.reason
            # The reason is logged and stored: the address in it is masked.
            assert message[1] not in failure.reason
            assert mask_email(message[1]) in failure.reason
            assert "\n" not in failure.reason

            assert (await sender.send(*message)).code == 250
            assert [m.content for m in sink.messages] == [message[2]]
            # The refusal was reset with RSET; the same session carried the retry.
            assert sink.ehlo_count == 1


async def test_unknown_user_is_permanent_and_the_next_message_still_goes() -> None:
    sink = Sink(
        refuse={"RCPT": ["550 5.1.1 <nobody@example.com>: Recipient address rejected"]},
        refuse_only={"nobody@example.com"},
    )
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=1)) as sender,
        ):
            with pytest.raises(PermanentFailure) as caught:
                await sender.send(*boleto_message(1, email="nobody@example.com"))
            assert caught.value.smtp_code == 550
            assert not caught.value.retryable
            assert "Recipient address rejected" in caught.value.reason

            other = boleto_message(2, email="somebody@example.com")
            assert (await sender.send(*other)).code == 250
            assert [m.rcpt_tos for m in sink.messages] == [["somebody@example.com"]]
            assert sink.ehlo_count == 1


@pytest.mark.parametrize(
    ("command", "reply", "expected", "code"),
    [
        ("MAIL", "451 4.3.0 Local error in processing", TemporaryFailure, 451),
        ("MAIL", "553 5.1.8 Sender address rejected", PermanentFailure, 553),
        ("RCPT", "452 4.2.2 Mailbox full", TemporaryFailure, 452),
        ("RCPT", "421 4.7.0 Too many connections, closing", TemporaryFailure, 421),
        ("RCPT", "554 5.7.1 Relay access denied", PermanentFailure, 554),
        ("DATA", "451 4.3.0 Queue write failed", TemporaryFailure, 451),
        ("DATA", "552 5.3.4 Message size exceeds fixed limit", PermanentFailure, 552),
        ("DATA", "554 5.7.1 Message rejected as spam", PermanentFailure, 554),
    ],
)
async def test_reply_codes_are_classified(
    command: str, reply: str, expected: type[DeliveryFailure], code: int
) -> None:
    sink = Sink(refuse={command: [reply]})
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=1)) as sender,
        ):
            with pytest.raises(expected) as caught:
                await sender.send(*boleto_message(1))
            assert type(caught.value) is expected
            assert caught.value.smtp_code == code
            assert reply.split(" ", 2)[2] in caught.value.reason
            # Whatever the refusal did to the session, the next message goes through.
            assert (await sender.send(*boleto_message(2))).code == 250
            assert len(sink.messages) == 1


async def test_unusable_address_is_permanent_without_touching_the_server() -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings_for(server.port)) as sender:
            for recipient in ("a@example.com>\r\nRCPT TO:<b@example.com", "joão@example.com", ""):
                with pytest.raises(PermanentFailure) as caught:
                    await sender.send(SENDER, recipient, b"Subject: x\r\n\r\nx\r\n")
                assert caught.value.smtp_code == 0
                assert caught.value.stage == "envelope"
            assert sink.ehlo_count == 0


# --- the server going away -------------------------------------------------------------------


async def test_idle_session_closed_by_the_server_is_replaced_transparently() -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=1)) as sender,
        ):
            await sender.send(*boleto_message(1))
            # What a server says when it drops a session it considers idle: nothing was
            # handed over yet, so one more try on a new session is safe.
            sink.refuse["MAIL"] = ["421 4.4.2 Idle timeout, closing connection"]
            assert (await sender.send(*boleto_message(2))).code == 250
            assert len(sink.messages) == 2
            assert sink.ehlo_count == 2

            # On a session opened for this very message the same reply is the answer.
            sink.refuse["MAIL"] = ["421 4.4.2 Idle timeout, closing connection"]
            await sender.close()
        async with (
            asyncio.timeout(TEST_TIMEOUT),
            SmtpSender(settings_for(server.port, connections=1)) as sender,
        ):
            with pytest.raises(TemporaryFailure) as caught:
                await sender.send(*boleto_message(3))
            assert caught.value.smtp_code == 421


async def test_server_down_is_temporary_and_recovers_when_it_comes_up() -> None:
    port = free_port()
    async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings_for(port)) as sender:
        with pytest.raises(TemporaryFailure) as caught:
            await sender.send(*boleto_message(1))
        assert caught.value.smtp_code == 0
        assert caught.value.stage == "connect"
        assert str(port) in caught.value.reason

        sink = Sink()
        with smtp_server(sink, port=port):
            assert (await sender.send(*boleto_message(1))).code == 250
        assert len(sink.messages) == 1

        # A restart drops the pooled session without the client noticing yet (the sink
        # stopped between two sends); the next message finds it dead at MAIL and opens a
        # new one instead of failing.
        restarted = Sink()
        with smtp_server(restarted, port=port):
            assert (await sender.send(*boleto_message(2))).code == 250
        assert len(restarted.messages) == 1


async def test_server_that_never_answers_times_out_as_temporary() -> None:
    # Accepted by the kernel's backlog, never by anyone: no greeting ever comes.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        settings = settings_for(port, timeout=0.5)
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            started = time.monotonic()
            with pytest.raises(TemporaryFailure) as caught:
                await sender.send(*boleto_message(1))
            assert time.monotonic() - started < 3.0
            assert caught.value.smtp_code == 0
            assert "timed out" in caught.value.reason


# --- rate limit ------------------------------------------------------------------------------


async def test_rate_limit_spaces_messages() -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        settings = settings_for(server.port, connections=4, rate_per_second=10)
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            started = time.monotonic()
            await asyncio.gather(*(sender.send(*boleto_message(i)) for i in range(20)))
            elapsed = time.monotonic() - started
    # The first message goes at once, the other 19 a tenth of a second apart.
    assert 1.8 <= elapsed < 6.0
    assert len(sink.messages) == 20


# --- authentication --------------------------------------------------------------------------


# aiosmtpd warns about AUTH without TLS, which is what these tests want on loopback.
plaintext_auth = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@contextmanager
def auth_server(sink: Sink) -> Iterator[tuple[Controller, Authenticator]]:
    authenticator = Authenticator("mailer", PASSWORD)
    # Plain-text AUTH is acceptable only because this server lives on loopback for a test.
    with smtp_server(
        sink, authenticator=authenticator, auth_required=True, auth_require_tls=False
    ) as server:
        yield server, authenticator


@plaintext_auth
async def test_wrong_password_is_permanent_and_never_shown() -> None:
    sink = Sink()
    with auth_server(sink) as (server, authenticator):
        wrong = PASSWORD[::-1]
        settings = settings_for(server.port, username="mailer", password=wrong)
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            with pytest.raises(PermanentFailure) as caught:
                await sender.send(*boleto_message(1))
            failure = caught.value
            assert failure.smtp_code == 535
            assert failure.stage == "auth"
            assert authenticator.attempts >= 1
            shown = " ".join([str(failure), repr(failure), failure.reason, repr(settings)])
            shown += repr(sender)
            assert wrong not in shown and PASSWORD not in shown
            # Nothing chained either, so no traceback can print what the library saw.
            assert failure.__cause__ is None and failure.__suppress_context__

            with pytest.raises(PermanentFailure) as probed:
                await sender.probe()
            assert probed.value.smtp_code == 535
        assert sink.messages == []


@plaintext_auth
async def test_right_password_sends() -> None:
    sink = Sink()
    with auth_server(sink) as (server, _):
        settings = settings_for(server.port, username="mailer", password=PASSWORD)
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            await sender.probe()
            message = boleto_message(1)
            assert (await sender.send(*message)).code == 250
        assert [m.content for m in sink.messages] == [message[2]]


@plaintext_auth
async def test_missing_credentials_are_refused_by_the_server() -> None:
    sink = Sink()
    with auth_server(sink) as (server, _):
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings_for(server.port)) as sender:
            with pytest.raises(PermanentFailure) as caught:
                await sender.send(*boleto_message(1))
            assert caught.value.smtp_code == 530
            assert caught.value.stage == "mail"


# --- TLS -------------------------------------------------------------------------------------


async def test_required_starttls_is_not_silently_skipped() -> None:
    sink = Sink()
    with smtp_server(sink) as server:
        settings = settings_for(server.port, security="starttls")
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            with pytest.raises(TemporaryFailure) as caught:
                await sender.send(*boleto_message(1))
            assert caught.value.smtp_code == 0
            assert "STARTTLS" in caught.value.reason
        assert sink.messages == []


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made with `cryptography` (the test skips without it)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_starttls_with_a_private_ca(tmp_path: Path) -> None:
    pytest.importorskip(
        "cryptography",
        reason="making a self-signed certificate needs the 'cryptography' package",
    )
    import ssl

    cert_path, key_path = _self_signed_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    sink = Sink()
    with smtp_server(sink, tls_context=server_context, require_starttls=True) as server:
        trusted = settings_for(server.port, security="starttls", ca_file=str(cert_path))
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(trusted) as sender:
            message = boleto_message(1)
            assert (await sender.send(*message)).code == 250
        assert [m.content for m in sink.messages] == [message[2]]

        # The same server without its certificate trusted: refused, and worth a retry
        # once the configuration is fixed.
        untrusted = settings_for(server.port, security="starttls")
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(untrusted) as sender:
            with pytest.raises(TemporaryFailure) as caught:
                await sender.send(*boleto_message(2))
            assert caught.value.smtp_code == 0
            assert "certificate" in caught.value.reason.lower()
        assert len(sink.messages) == 1

    # Implicit TLS (port 465 style): the handshake comes before the greeting.
    implicit = Sink()
    with smtp_server(implicit, ssl_context=server_context) as server:
        settings = settings_for(server.port, security="tls", ca_file=str(cert_path))
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            assert (await sender.send(*boleto_message(3))).code == 250
        assert len(implicit.messages) == 1


# --- settings and backoff --------------------------------------------------------------------


def test_settings_hide_the_password_and_reject_nonsense() -> None:
    settings = settings_for(25, username="mailer", password=PASSWORD)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert "password='********'" in repr(settings)
    assert "password=None" in repr(settings_for(25))
    nonsense: tuple[dict[str, Any], ...] = (
        {"security": "ssl"},
        {"port": 0},
        {"connections": 0},
        {"rate_per_second": -1},
        {"timeout": 0},
        {"password": "x"},
        {"host": ""},
    )
    for bad in nonsense:
        with pytest.raises(InvalidMailSettings):
            settings_for(bad.pop("port", 25), **bad)


async def test_send_needs_a_started_sender() -> None:
    sender = SmtpSender(settings_for(25))
    with pytest.raises(RuntimeError, match="not started"):
        await sender.send(SENDER, "a@example.com", b"x\r\n")
    await sender.start()
    await sender.close()
    with pytest.raises(RuntimeError, match="closed"):
        await sender.send(SENDER, "a@example.com", b"x\r\n")


def test_retry_delay_is_full_jitter_under_an_exponential_cap() -> None:
    first = [retry_delay(n, 2.0, 60.0, random.Random(7)) for n in range(1, 12)]
    again = [retry_delay(n, 2.0, 60.0, random.Random(7)) for n in range(1, 12)]
    assert first == again
    rng = random.Random(1)
    for attempt in range(1, 40):
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        draws = [retry_delay(attempt, 2.0, 60.0, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in draws)
        # Spread over the whole range, not bunched at the ceiling.
        assert min(draws) < ceiling * 0.1 and max(draws) > ceiling * 0.9
    assert retry_delay(10_000, 2.0, 60.0, rng) <= 60.0
    assert retry_delay(0, 2.0, 60.0, rng) <= 2.0
    with pytest.raises(ValueError):
        retry_delay(1, -1.0, 60.0)
