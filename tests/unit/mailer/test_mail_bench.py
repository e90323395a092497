from __future__ import annotations

import email
from email.policy import default

from boletos_bench.mail_bench import bench_compose
from boletos_testing.mails import SETTINGS, sample_mails, sample_pdf
from mailer_service.domain import compose


def test_bench_compose_reports_rates() -> None:
    result = bench_compose(0.05)
    assert result["messages"] > 0
    assert result["messages_per_s"] > 0
    assert result["accented_messages_per_s"] > 0
    assert result["pdf_bytes"] == len(sample_pdf())


def test_bench_messages_are_valid() -> None:
    pdf = sample_pdf()
    for mail in sample_mails(3, accented=True):
        message = email.message_from_bytes(compose(mail, pdf, SETTINGS), policy=default)
        assert message["To"].addresses[0].addr_spec == mail.email
