"""Operator notices: what they say, how they travel, how they are configured."""

from __future__ import annotations

import datetime as dt

import pytest

from boletos.platform.settings import ConfigError
from boletos.v1 import events_pb2
from ingest_service.config import Settings
from ingest_service.domain.report import Failure
from ingest_service.notifications.channels import describe, retry_delay
from ingest_service.notifications.email import compose
from ingest_service.notifications.summary import (
    Attachment,
    Report,
    max_deliveries_notice,
    upload_notice,
)
from tests.support import access

UID = "0b6c1f7e-4f43-4c53-9d0e-0d4c4e1e2a11"


def completed(**fields: object) -> events_pb2.UploadCompleted:
    event = events_pb2.UploadCompleted(
        upload_id=UID,
        file_name="debts.csv",
        rows=10,
        accepted=10,
        boletos_issued=10,
        emails_sent=10,
    )
    for name, value in fields.items():
        setattr(event, name, value)
    event.completed_at.FromDatetime(dt.datetime(2024, 5, 2, 12, 0, tzinfo=dt.UTC))
    return event


def test_a_clean_upload_says_so_and_asks_nothing():
    notice = upload_notice(completed(), [], None)
    assert notice.subject == "[boletos] upload debts.csv settled: 10 e-mails sent"
    assert notice.actions == ()
    assert "What needs a person" not in notice.text
    assert notice.payload["state"] == "settled"
    assert notice.payload["completed_at"] == "2024-05-02T12:00:00Z"
    assert notice.payload["report_command"] == f"boletos report {UID} -o report-{UID}.csv"
    assert notice.key == f"upload-completed:{UID}"


def test_failed_emails_come_with_examples_and_the_retry_command():
    failures = [
        Failure(7, "aaaaaaaa-0000-4000-8000-000000000001", "email", "550 5.1.1 no\r\nsuch user"),
        Failure(9, "aaaaaaaa-0000-4000-8000-000000000002", "boleto", "due date too far"),
    ]
    event = completed(emails_sent=7, emails_failed=2, boletos_issued=9, boletos_failed=1)
    notice = upload_notice(event, failures, None)
    assert notice.subject.endswith("action needed")
    emails, boletos = notice.actions
    assert emails.startswith("2 e-mails failed permanently; the first:")
    assert "line 7, debt aaaaaaaa-0000-4000-8000-000000000001: 550 5.1.1 no such user" in emails
    assert f"boletos retry {UID}" in emails and "MailerService.RetryFailed" in emails
    assert boletos.startswith("1 debt got no boleto:")
    assert "new debtIds" in boletos
    shown = notice.payload["failures"]
    assert isinstance(shown, list)
    assert [f["stage"] for f in shown] == ["email", "boleto"]


def test_rejected_rows_and_conflicts_point_at_the_report():
    notice = upload_notice(completed(rows=12, rejected=1, conflicts=1), [], None)
    (action,) = notice.actions
    assert "1 row rejected and 1 conflicting" in action


def test_a_refused_file_says_why_on_one_line():
    event = completed(rows=0, accepted=0, rejection_reason="bad header:\nno debtId column")
    event.file_name = "evil\r\nBcc: someone@example.com"
    notice = upload_notice(event, [], None)
    assert notice.subject == (
        "[boletos] upload evil Bcc: someone@example.com refused: bad header: no debtId column"
    )
    assert notice.payload["state"] == "refused"
    message = compose(notice, "Boletos <boletos@example.com>", ("ops@example.com",))
    assert message["Bcc"] is None
    assert message["To"] == "ops@example.com"


def test_the_report_is_attached_or_its_command_given():
    attachment = Attachment(f"report-{UID}.csv", b"line,debtId\n2,x\n")
    notice = upload_notice(completed(), [], Report(attachment, 1))
    message = compose(notice, "boletos@example.com", ("a@example.com", "b@example.com"))
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == f"report-{UID}.csv"
    assert part.get_content_type() == "text/csv"
    assert message["To"] == "a@example.com, b@example.com"
    assert message["Message-ID"].endswith("@example.com>")

    too_large = upload_notice(completed(rows=2_000_000), [], Report(None, 2_000_000, True))
    assert "(2,000,000 lines) is too large to attach" in too_large.text
    assert f"boletos report {UID}" in too_large.text
    assert too_large.attachment is None


def test_a_message_past_its_max_deliveries_says_where_it_is_and_what_to_do():
    notice = max_deliveries_notice(
        {
            "type": "io.nats.jetstream.advisory.v1.max_deliver",
            "stream": "BOLETO",
            "consumer": "ingest-progress-boleto-boletos-issued",
            "stream_seq": 42,
            "deliveries": 20,
        }
    )
    assert "nats stream get BOLETO 42" in notice.text
    assert "left in the stream" in notice.text
    assert notice.payload["event"] == "jetstream.max_deliveries"
    assert (notice.payload["stream_seq"], notice.payload["deliveries"]) == (42, 20)
    assert notice.key == "max-deliveries:BOLETO:ingest-progress-boleto-boletos-issued:42"


def test_retries_double_up_to_ten_minutes():
    assert [retry_delay(n, 5) for n in (1, 2, 3)] == [5, 10, 20]
    assert retry_delay(20, 5) == 600


def test_logged_errors_never_carry_a_full_address():
    exc = RuntimeError("550 <maria.silva@example.com>: recipient refused")
    assert describe(exc) == "RuntimeError: 550 <m***@example.com>: recipient refused"


def test_settings_turn_notifications_on_and_hide_secrets():
    settings = Settings.from_env(
        {
            **access.minimal_env(),
            "NOTIFY_EMAIL_TO": "ops@example.com, finance@example.org",
            "NOTIFY_SMTP_PASSWORD": "s3cret",
            "NOTIFY_SMTP_SECURITY": "starttls",
            "NOTIFY_WEBHOOK_URL": "https://hooks.example.com/services/T000/B000/XXXX",
        }
    ).notify
    assert settings.enabled
    assert settings.email_to == ("ops@example.com", "finance@example.org")
    masked = settings.masked()
    assert masked["smtp_password"] == "***"
    assert masked["email_to"] == ["example.com", "example.org"]
    assert "XXXX" not in str(masked["webhook_url"])
    assert not Settings.from_env(access.minimal_env()).notify.enabled


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NOTIFY_SMTP_SECURITY": "ssl"}, "NOTIFY_SMTP_SECURITY"),
        ({"NOTIFY_EMAIL_TO": "ops"}, "NOTIFY_EMAIL_TO"),
        ({"NOTIFY_WEBHOOK_URL": "ftp://example.com/x"}, "NOTIFY_WEBHOOK_URL"),
        ({"NOTIFY_MAX_ATTEMPTS": "0"}, "NOTIFY_MAX_ATTEMPTS"),
    ],
)
def test_settings_refuse_what_cannot_work(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**access.minimal_env(), **env})
