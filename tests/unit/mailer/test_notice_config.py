"""The notice settings: defaults, what each variable changes, and refusals naming it."""

from __future__ import annotations

import pytest

from boletos.platform.settings import ConfigError
from mailer_service.config import Settings
from mailer_service.domain.schedule import NoticePolicy
from tests.support import access


def settings(**env: str) -> Settings:
    return Settings.from_env({**access.minimal_env(), **env})


def test_defaults() -> None:
    s = settings()
    assert s.notices is True
    assert s.notice_policy == NoticePolicy(reminder_days_before=3, overdue_days_after=1)
    assert s.reminder_check_seconds == 60.0
    assert s.send_receipts is False
    assert s.masked()["notice_policy"] == (
        "reminder 3 days before, overdue notice 1 days after, checked every 60 s"
    )


def test_each_variable() -> None:
    s = settings(
        MAILER_REMINDERS="off",
        REMINDER_DAYS_BEFORE="0",
        OVERDUE_NOTICE_DAYS_AFTER="10",
        MAILER_REMINDER_CHECK_SECONDS="0.5",
        MAILER_SEND_RECEIPTS="true",
    )
    assert s.notices is False
    assert s.notice_policy == NoticePolicy(reminder_days_before=0, overdue_days_after=10)
    assert s.reminder_check_seconds == 0.5
    assert s.send_receipts is True
    assert s.masked()["notice_policy"] == "off"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAILER_REMINDERS", "maybe"),
        ("REMINDER_DAYS_BEFORE", "-1"),
        ("REMINDER_DAYS_BEFORE", "three"),
        ("REMINDER_DAYS_BEFORE", "400"),
        ("OVERDUE_NOTICE_DAYS_AFTER", "0"),
        ("OVERDUE_NOTICE_DAYS_AFTER", "367"),
        ("MAILER_REMINDER_CHECK_SECONDS", "0"),
        ("MAILER_REMINDER_CHECK_SECONDS", "nan"),
        ("MAILER_SEND_RECEIPTS", "sometimes"),
    ],
)
def test_a_bad_value_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        settings(**{name: value})
