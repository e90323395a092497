"""Operator notifications by e-mail, through the SMTP server NOTIFY_SMTP_* name."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import aiosmtplib

from ingest_service.notifications.settings import NotifySettings
from ingest_service.notifications.summary import Notice


class EmailChannel:
    name = "email"
    carries_files = True

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings

    async def send(self, notice: Notice) -> None:
        s = self._settings
        await aiosmtplib.send(
            compose(notice, s.email_from, s.email_to),
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            timeout=s.timeout_seconds,
        )


def compose(notice: Notice, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = notice.subject
    message["Date"] = email.utils.formatdate(localtime=False)
    domain = email.utils.parseaddr(sender)[1].partition("@")[2] or "localhost"
    message["Message-ID"] = email.utils.make_msgid("boletos-notice", domain=domain)
    message["X-Boletos-Notice"] = notice.key
    message.set_content(notice.text)
    if notice.attachment is not None:
        maintype, _, subtype = notice.attachment.content_type.partition("/")
        message.add_attachment(
            notice.attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=notice.attachment.filename,
        )
    return message
