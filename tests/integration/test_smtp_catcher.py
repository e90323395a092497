"""The local stack's SMTP catcher: every accepted message becomes one readable Maildir file."""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import string
import sys
from collections.abc import Callable, Iterator
from email.message import EmailMessage, Message
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope
from hypothesis import given, settings
from hypothesis import strategies as st

from boletos_cli.stack.smtp_catcher import CatcherController, CatcherSMTP
from tests.support.processes import free_port, python_env, wait_for_port


async def test_each_message_is_one_file_in_new_that_a_maildir_reader_opens(
    tmp_path: Path,
) -> None:
    port = free_port()
    catcher = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "boletos_cli.stack.smtp_catcher", "--port", str(port),
        "--maildir", str(tmp_path / "mail"),
        env=python_env(),
    )  # fmt: skip
    try:
        wait_for_port(port)
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for n in range(3):
                message = EmailMessage()
                message["From"] = "cobranca@example.com"
                message["To"] = f"devedor{n}@example.com"
                message["Subject"] = f"Boleto {n}"
                message.set_content("Segue o boleto.")
                message.add_attachment(
                    b"%PDF-1.4 " + bytes([n]) * 3000,
                    maintype="application",
                    subtype="pdf",
                    filename=f"boleto-{n}.pdf",
                )
                await smtp.send_message(message)
            assert smtp.supports_extension("pipelining")
        # Pipelined, as the mailer sends when offered: the envelope in one write.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        replies = [await reader.readline()]
        writer.write(b"EHLO client.test\r\n")
        while not replies[-1].startswith(b"250 "):
            replies.append(await reader.readline())
        writer.write(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        replies = [await reader.readline() for _ in range(3)]
        assert [r[:3] for r in replies] == [b"250", b"250", b"354"]
        writer.write(b"Subject: Boleto 3\r\n\r\n..pipelined\r\n.\r\nQUIT\r\n")
        assert (await reader.readline())[:3] == b"250"
        writer.close()
    finally:
        catcher.terminate()
        assert await asyncio.wait_for(catcher.wait(), 10) == 0

    assert list((tmp_path / "mail" / "tmp").iterdir()) == []
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 4
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    received = sorted(box, key=lambda m: m["Subject"])
    assert [m["Subject"] for m in received] == ["Boleto 0", "Boleto 1", "Boleto 2", "Boleto 3"]
    assert received[3].get_payload() == ".pipelined\n"
    parts = received[2].get_payload()
    assert isinstance(parts, list)
    attachment = parts[1]
    assert isinstance(attachment, Message)
    assert attachment.get_filename() == "boleto-2.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4 " + bytes([2]) * 3000


class _Recorder:
    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.contents.append(envelope.content)
        return "250 Message accepted for delivery"


@contextlib.contextmanager
def _catcher(data_size_limit: int = 10 * 1024 * 1024) -> Iterator[tuple[int, _Recorder]]:
    recorder = _Recorder()
    port = free_port()
    controller = CatcherController(
        recorder, hostname="127.0.0.1", port=port, data_size_limit=data_size_limit
    )
    controller.start()
    try:
        yield port, recorder
    finally:
        controller.stop()


async def _send_raw(port: int, stuffed_bodies: list[bytes]) -> list[bytes]:
    """The final reply to each DATA, the body sent exactly as given (already dot-stuffed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> bytes:
        while (line := await reader.readline())[3:4] == b"-":
            pass
        return line

    await reply()
    replies = []
    for body in stuffed_bodies:
        for command in (b"EHLO test", b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@example.com>"):
            writer.write(command + b"\r\n")
            assert (await reply()).startswith(b"250")
        writer.write(b"DATA\r\n")
        assert (await reply()).startswith(b"354")
        writer.write(body + b".\r\n")
        replies.append(await reply())
    writer.write(b"QUIT\r\n")
    await reply()
    writer.close()
    await writer.wait_closed()
    return replies


_BASE64_LINES = b"".join(b"QUJD" * 19 + b"\r\n" for _ in range(4_000))  # 308 KB of 76-byte lines


@pytest.mark.parametrize(
    ("stuffed", "expected"),
    [
        pytest.param(b"", b"", id="empty"),
        pytest.param(b"Subject: x\r\n\r\nbody\r\n", b"Subject: x\r\n\r\nbody\r\n", id="plain"),
        # A dot alone on a line, and a line starting with dots, as SMTP stuffs them.
        pytest.param(b"..\r\n", b".\r\n", id="lone-dot"),
        pytest.param(b"a\r\n..\r\nb\r\n", b"a\r\n.\r\nb\r\n", id="lone-dot-inside"),
        pytest.param(b"...hidden\r\n", b"..hidden\r\n", id="leading-dots"),
        # A line ending with a dot is not the end.
        pytest.param(b"fim.\r\nmais\r\n", b"fim.\r\nmais\r\n", id="dot-at-line-end"),
        pytest.param(b"\r\n\r\n", b"\r\n\r\n", id="blank-lines"),
        # Past the reader's buffer, in lines and in one line.
        pytest.param(_BASE64_LINES, _BASE64_LINES, id="large"),
        pytest.param(b"x" * 300_000 + b"\r\n", b"x" * 300_000 + b"\r\n", id="long-line"),
    ],
)
async def test_data_is_the_message_sent_without_its_dot_stuffing(
    stuffed: bytes, expected: bytes
) -> None:
    with _catcher() as (port, recorder):
        assert await _send_raw(port, [stuffed]) == [b"250 Message accepted for delivery\r\n"]
    assert recorder.contents == [expected]


@pytest.mark.parametrize(
    "oversized",
    [
        pytest.param(b"y" * 70 + b"\r\n" * 100 + b"z" * 2_000 + b"\r\n", id="within-the-buffer"),
        # Dropped as it comes in: past the limit, only the end of what was read is kept.
        pytest.param(_BASE64_LINES, id="past-the-buffer"),
    ],
)
async def test_a_message_over_the_limit_is_refused_and_the_next_one_taken(
    oversized: bytes,
) -> None:
    small = b"Subject: ok\r\n\r\nfits\r\n"
    with _catcher(data_size_limit=1_000) as (port, recorder):
        replies = await _send_raw(port, [oversized, small])
    assert replies[0].startswith(b"552")
    assert replies[1].startswith(b"250")
    assert recorder.contents == [small]


_ODD = '"\\ ().,;:<>@[]'
_PARTS = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-" + _ODD),
    max_size=12,
)


@settings(max_examples=500, deadline=None)
@given(local=_PARTS, domain=_PARTS, rest=st.sampled_from(["", " SIZE=1234", " BODY=8BITMIME", "x"]))
def test_addresses_are_read_as_aiosmtpd_reads_them(local: str, domain: str, rest: str) -> None:
    loop = asyncio.new_event_loop()
    try:
        server = CatcherSMTP(_Recorder(), loop=loop)
        for arg in (f"<{local}@{domain}>{rest}", f"<{local}>{rest}", f" <{local}@{domain}>"):
            assert _outcome(server._getaddr, arg) == _outcome(
                lambda a: SMTP._getaddr(server, a), arg
            ), arg
    finally:
        loop.close()


def _outcome(read: Callable[[str], object], arg: str) -> object:
    """What reading gave, or the exception it raised: the email package raises on some."""
    try:
        return read(arg)
    except Exception as error:  # noqa: BLE001 - any exception, as long as both raise it
        return type(error)
