"""SMTP delivery: a pooled, rate-limited sender whose errors say whether to retry."""

from .backoff import BASE_DELAY_SECONDS, MAX_ATTEMPTS, MAX_DELAY_SECONDS, retry_delay
from .failures import DeliveryFailure, PermanentFailure, TemporaryFailure
from .rate_limit import TokenBucket
from .smtp import Security, SendResult, SmtpSender, SmtpSettings

__all__ = [
    "BASE_DELAY_SECONDS",
    "MAX_ATTEMPTS",
    "MAX_DELAY_SECONDS",
    "DeliveryFailure",
    "PermanentFailure",
    "Security",
    "SendResult",
    "SmtpSender",
    "SmtpSettings",
    "TemporaryFailure",
    "TokenBucket",
    "retry_delay",
]
