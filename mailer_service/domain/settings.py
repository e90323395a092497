"""The mailer's configuration: who sends, where replies go, and the message's wording."""

from __future__ import annotations

from dataclasses import dataclass, field

from .addresses import Mailbox, parse_mailbox
from .errors import InvalidMailSettings
from .headers import format_mailbox, single_line
from .payment_link import PaymentLinks
from .templates import (
    DEFAULT_HTML,
    DEFAULT_SUBJECT,
    DEFAULT_TEXT,
    MailTemplate,
    compile_template,
)


@dataclass(frozen=True, slots=True)
class PreparedSettings:
    """What every message shares, parsed and encoded once instead of per message."""

    sender: Mailbox
    from_header: str
    reply_to_header: str | None
    sender_name: str
    subject: MailTemplate
    text: MailTemplate
    html: MailTemplate


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Validated on construction: a bad address or template fails at startup.

    Templates use `string.Template` placeholders (see templates.FIELDS); the subject must be
    a single line.
    """

    from_address: str
    reply_to: str | None = None
    subject_template: str = DEFAULT_SUBJECT
    text_template: str = DEFAULT_TEXT
    html_template: str = DEFAULT_HTML
    # None: the e-mails carry no link to the debtor's page.
    links: PaymentLinks | None = None
    prepared: PreparedSettings = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prepared", _prepare(self))


def _prepare(settings: MailSettings) -> PreparedSettings:
    sender = parse_mailbox(settings.from_address, "from_address")
    reply_to_header = None
    if settings.reply_to is not None:
        reply_to = parse_mailbox(settings.reply_to, "reply_to")
        reply_to_header = format_mailbox("Reply-To", reply_to.display_name, reply_to.addr_spec)
    subject = compile_template(settings.subject_template, "subject_template")
    if "\n" in subject.template.strip():
        raise InvalidMailSettings("subject_template must be a single line")
    return PreparedSettings(
        sender=sender,
        from_header=format_mailbox("From", sender.display_name, sender.addr_spec),
        reply_to_header=reply_to_header,
        sender_name=single_line(sender.display_name) or sender.addr_spec,
        subject=subject,
        text=compile_template(settings.text_template, "text_template"),
        html=compile_template(settings.html_template, "html_template"),
    )
