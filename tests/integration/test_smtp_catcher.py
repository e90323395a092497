"""The local stack's SMTP catcher: every accepted message becomes one readable Maildir file."""

from __future__ import annotations

import asyncio
import mailbox
import sys
from email.message import EmailMessage, Message
from pathlib import Path

import aiosmtplib

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
    finally:
        catcher.terminate()
        assert await asyncio.wait_for(catcher.wait(), 10) == 0

    assert list((tmp_path / "mail" / "tmp").iterdir()) == []
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 3
    box = mailbox.Maildir(tmp_path / "mail", create=False)
    received = sorted(box, key=lambda m: m["Subject"])
    assert [m["Subject"] for m in received] == ["Boleto 0", "Boleto 1", "Boleto 2"]
    parts = received[2].get_payload()
    assert isinstance(parts, list)
    attachment = parts[1]
    assert isinstance(attachment, Message)
    assert attachment.get_filename() == "boleto-2.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.4 " + bytes([2]) * 3000
