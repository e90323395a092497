"""A delivery's failure reason is logged and stored: it never holds the full address."""

from __future__ import annotations

import aiosmtplib

from mailer_service.delivery.failures import classify
from mailer_service.domain.failures import PermanentFailure, TemporaryFailure

ADDRESS = "joana.silva@example.com"


def test_a_refusal_that_repeats_the_address_is_masked() -> None:
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, f"5.1.1 <{ADDRESS}>: mailbox unavailable", ADDRESS)]
    )
    failure = classify(refused, "rcpt", subject="<j***@example.com>", personal=(ADDRESS,))
    assert isinstance(failure, PermanentFailure)
    assert ADDRESS not in failure.reason
    assert "j***@example.com" in failure.reason and "mailbox unavailable" in failure.reason


def test_a_timeout_naming_the_address_is_masked() -> None:
    failure = classify(TimeoutError(f"no answer for {ADDRESS}"), "rcpt", personal=(ADDRESS,))
    assert isinstance(failure, TemporaryFailure)
    assert ADDRESS not in failure.reason
