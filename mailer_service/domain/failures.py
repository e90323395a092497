"""Why a message was not accepted, sorted into "try again later" and "never will be".

Only the exception types matter to a caller: TemporaryFailure is worth retrying (a 4xx
reply, or no reply at all: refused, reset, timed out, disconnected), PermanentFailure is not
(a 5xx reply, or an address SMTP cannot carry). Both carry the reply code and one line of
text that is safe to store and show: the server's own words, never the login password.
The SMTP client's own errors are sorted into these by delivery/failures.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

from boletos.platform.logs import mask_email

Stage = Literal["envelope", "connect", "auth", "mail", "rcpt", "data"]

# A reply is stored with the delivery; an unbounded one (some servers send many lines of
# policy text) would bloat every failed row.
MAX_REASON_CHARS = 400
_MASK = "********"

STAGE_TEXT: dict[Stage, str] = {
    "envelope": "envelope rejected before sending",
    "connect": "connecting to the SMTP server",
    "auth": "authenticating to the SMTP server",
    "mail": "MAIL FROM",
    "rcpt": "RCPT TO",
    "data": "DATA",
}


class DeliveryFailure(Exception):
    """A message the SMTP server did not accept.

    `smtp_code` is the server's reply code, 0 when there was no reply; `stage` says where
    the exchange stopped, so a caller can tell a refused recipient from a refused login.
    """

    retryable: ClassVar[bool]

    def __init__(self, smtp_code: int, reason: str, *, stage: Stage) -> None:
        super().__init__(reason)
        self.smtp_code = smtp_code
        self.reason = reason
        self.stage = stage

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(smtp_code={self.smtp_code}, reason={self.reason!r})"


class TemporaryFailure(DeliveryFailure):
    """Worth retrying later: 4xx replies and every failure that had no reply."""

    retryable = True


class UncertainDelivery(DeliveryFailure):
    """The message was handed over whole and no reply to it came back (a timeout or a
    dropped connection after DATA): the server may have accepted it. Sending it again could
    duplicate it, not sending it could lose it; a person decides."""

    retryable = False


class PermanentFailure(DeliveryFailure):
    """Retrying the same message cannot succeed: 5xx replies, unusable addresses."""

    retryable = False


def one_line(text: str, secret: str | None = None, personal: Sequence[str] = ()) -> str:
    """Whitespace and line breaks collapsed, the secret and e-mail addresses masked (a
    server's reply often repeats the recipient), the length bounded."""
    if secret:
        text = text.replace(secret, _MASK)
    for address in personal:
        if address:
            text = text.replace(address, mask_email(address))
    text = " ".join(text.split())
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 3] + "..."
    return text


def failure_for_reply(
    code: int,
    text: str,
    stage: Stage,
    *,
    subject: str = "",
    secret: str | None = None,
    personal: Sequence[str] = (),
) -> DeliveryFailure:
    """Classify a reply by its first digit: 5 is permanent, anything else is worth a retry.

    Codes outside 100-599 (aiosmtplib reports -1 for an unparsable reply) are kept as 0, so
    `smtp_code` is always either a real reply code or "no reply".
    """
    smtp_code = code if 100 <= code <= 599 else 0
    where = STAGE_TEXT[stage] + (f" {subject}" if subject else "")
    shown = str(code) if smtp_code else "invalid reply"
    reason = one_line(f"{where}: {shown} {text}", secret, personal)
    if 500 <= smtp_code <= 599:
        return PermanentFailure(smtp_code, reason, stage=stage)
    return TemporaryFailure(smtp_code, reason, stage=stage)
