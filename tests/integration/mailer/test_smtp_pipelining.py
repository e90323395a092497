"""Command pipelining (RFC 2920) on the wire, against a scripted server on a loopback port.

The aiosmtpd tests (test_smtp_delivery.py) run every delivery path pipelined and not; these
pin down what they cannot show: that MAIL, RCPT and DATA do go out in one write when the
server offers PIPELINING and never when it does not, that replies are matched to their
commands however the server's segments split them, and what a server that misbehaves gets.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from mailer_service.delivery import SmtpSender
from mailer_service.domain.failures import PermanentFailure, TemporaryFailure
from tests.integration.mailer.test_smtp_delivery import settings_for

TEST_TIMEOUT = 15.0
SENDER = "cobranca@example.com"
MESSAGE = b"Subject: one\r\n\r\n.dotted\r\nbody\r\n"

# Writes the replies it is given to the client, in segments of its choosing.
Reply = Callable[[asyncio.StreamWriter, list[bytes]], Awaitable[None]]
# The replies to MAIL, RCPT and DATA for the n-th message (over all sessions); fewer than
# three, and the server hangs up after them.
Script = Callable[[int], list[bytes]]


async def _at_once(writer: asyncio.StreamWriter, replies: list[bytes]) -> None:
    writer.write(b"".join(replies))
    await writer.drain()


async def _byte_by_byte(writer: asyncio.StreamWriter, replies: list[bytes]) -> None:
    for byte in b"".join(replies):
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0)


def _accept_all(_n: int) -> list[bytes]:
    return [b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n", b"354 End data with <CR><LF>.<CR><LF>\r\n"]


class ScriptedServer:
    """Answers one session. With `pipelining`, it reads MAIL, RCPT and DATA whole before it
    answers any of them, so a client that waits for each reply never gets one. Without, it
    checks that nothing follows a command before its reply."""

    def __init__(self, pipelining: bool, reply: Reply, script: Script = _accept_all) -> None:
        self.pipelining = pipelining
        self.reply = reply
        self.script = script
        self.commands: list[bytes] = []
        self.messages: list[bytes] = []
        self.problems: list[str] = []
        self.sessions = 0
        self.transactions = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._session(reader, writer)
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the server
            self.problems.append(repr(exc))
        finally:
            writer.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        writer.write(b"220 scripted ESMTP\r\n")
        await reader.readline()  # EHLO
        offers = [b"250-scripted", b"250-SIZE 10000000"]
        if self.pipelining:
            offers.append(b"250-PIPELINING")
        writer.write(b"\r\n".join([*offers, b"250 HELP"]) + b"\r\n")
        while True:
            line = await reader.readline()
            if not line or line.startswith(b"QUIT"):
                writer.write(b"221 Bye\r\n")
                return
            if line.startswith(b"RSET"):
                writer.write(b"250 Ok\r\n")
                continue
            replies = self.script(self.transactions)
            self.transactions += 1
            if self.pipelining:
                self.commands += [line, await reader.readline(), await reader.readline()]
                await self.reply(writer, replies)
                if len(replies) < 3:
                    return
                started = replies[2].startswith(b"354")
            else:
                started = await self._one_at_a_time(reader, writer, line, replies)
            if started:
                self.messages.append(await self._message(reader))
                writer.write(b"250 2.0.0 Ok: queued\r\n")

    async def _one_at_a_time(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        line: bytes,
        replies: list[bytes],
    ) -> bool:
        """Answers MAIL, RCPT and DATA in turn; whether DATA was answered 354."""
        for i, reply in enumerate(replies):
            self.commands.append(line)
            await self._nothing_before_the_reply(reader, line)
            writer.write(reply)
            if i == 2 or not reply.startswith(b"2"):
                return reply.startswith(b"354")
            line = await reader.readline()
        return False

    @staticmethod
    async def _message(reader: asyncio.StreamReader) -> bytes:
        lines = [await reader.readline()]
        while lines[-1] not in (b".\r\n", b""):
            lines.append(await reader.readline())
        return b"".join(lines)

    @staticmethod
    async def _nothing_before_the_reply(reader: asyncio.StreamReader, command: bytes) -> None:
        try:
            early = await asyncio.wait_for(reader.read(1), 0.05)
        except TimeoutError:
            return
        raise AssertionError(f"sent before {command!r} was answered: {early!r}")


@asynccontextmanager
async def serving(server: ScriptedServer) -> AsyncIterator[SmtpSender]:
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    settings = settings_for(listener.sockets[0].getsockname()[1], connections=1)
    try:
        async with asyncio.timeout(TEST_TIMEOUT), SmtpSender(settings) as sender:
            yield sender
    finally:
        listener.close()
        await listener.wait_closed()
    assert server.problems == []


@pytest.mark.parametrize("reply", [_at_once, _byte_by_byte], ids=["one segment", "byte by byte"])
async def test_offered_pipelining_sends_the_envelope_in_one_write(reply: Reply) -> None:
    server = ScriptedServer(pipelining=True, reply=reply)
    async with serving(server) as sender:
        for i in range(3):
            result = await sender.send(SENDER, f"payer{i}@example.com", MESSAGE)
            assert result.code == 250
    assert server.commands == [
        line
        for i in range(3)
        for line in (
            b"MAIL FROM:<cobranca@example.com> SIZE=%d\r\n" % len(MESSAGE),
            b"RCPT TO:<payer%d@example.com>\r\n" % i,
            b"DATA\r\n",
        )
    ]
    assert server.messages == [b"Subject: one\r\n\r\n..dotted\r\nbody\r\n.\r\n"] * 3


async def test_without_the_offer_each_command_waits_for_its_reply() -> None:
    server = ScriptedServer(pipelining=False, reply=_at_once)
    async with serving(server) as sender:
        for i in range(2):
            assert (await sender.send(SENDER, f"payer{i}@example.com", MESSAGE)).code == 250
    assert len(server.commands) == 6
    assert len(server.messages) == 2


async def test_a_refused_recipient_is_reported_and_the_session_goes_on() -> None:
    def script(n: int) -> list[bytes]:
        if n == 0:
            # A server that starts a message though it refused the only recipient: the
            # sender ends that message empty and reports the refusal.
            return [b"250 Ok\r\n", b"550 5.1.1 No such user\r\n", b"354 Go ahead\r\n"]
        return _accept_all(n)

    server = ScriptedServer(pipelining=True, reply=_at_once, script=script)
    async with serving(server) as sender:
        with pytest.raises(PermanentFailure) as caught:
            await sender.send(SENDER, "nobody@example.com", MESSAGE)
        assert caught.value.smtp_code == 550
        assert caught.value.stage == "rcpt"
        assert (await sender.send(SENDER, "payer@example.com", MESSAGE)).code == 250
    # The empty message that closed the refused one, then the real one.
    assert server.messages == [b".\r\n", b"Subject: one\r\n\r\n..dotted\r\nbody\r\n.\r\n"]


async def test_a_refusal_before_hanging_up_is_the_answer() -> None:
    def script(n: int) -> list[bytes]:
        # The server refuses MAIL and closes: RCPT's and DATA's replies never come.
        return [b"421 4.3.2 Shutting down\r\n"] if n in (0, 2) else _accept_all(n)

    server = ScriptedServer(pipelining=True, reply=_at_once, script=script)
    async with serving(server) as sender:
        with pytest.raises(TemporaryFailure) as caught:
            await sender.send(SENDER, "payer0@example.com", MESSAGE)
        assert (caught.value.smtp_code, caught.value.stage) == (421, "mail")
        assert (await sender.send(SENDER, "payer1@example.com", MESSAGE)).code == 250
        # On a session that served a message before, the same refusal means it was dropped
        # as idle: nothing was handed over, so the message goes again on a new one.
        assert (await sender.send(SENDER, "payer2@example.com", MESSAGE)).code == 250
    assert server.sessions == 3
    assert len(server.messages) == 2
