"""SMTP delivery: a pooled, rate-limited sender whose errors say whether to retry."""

from .rate_limit import TokenBucket
from .smtp import Security, SendResult, SmtpSender, SmtpSettings

__all__ = [
    "Security",
    "SendResult",
    "SmtpSender",
    "SmtpSettings",
    "TokenBucket",
]
