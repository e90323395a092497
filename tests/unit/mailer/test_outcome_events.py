"""The events reporting a batch of outcomes: EmailsSent and EmailsFailed for the boleto
e-mails only, an uncertain one among the failures."""

from __future__ import annotations

import uuid

from boletos.platform.nats_streams import SUBJECT_EMAILS_FAILED, SUBJECT_EMAILS_SENT
from boletos.v1 import events_pb2
from mailer_service.domain.delivery import DeliveryKind, DeliveryStatus, Outcome
from mailer_service.service.outcome_events import outcome_events

UPLOAD = "0b6f0e5e-8c1a-4f53-9d0e-3a2f1c4b5d6e"
SENT, FAILED, UNCERTAIN, PENDING = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNCERTAIN,
    DeliveryStatus.PENDING,
)


def outcome(status: DeliveryStatus, kind: DeliveryKind = DeliveryKind.BOLETO, **kw) -> Outcome:
    return Outcome(str(uuid.uuid4()), UPLOAD, status, kind=kind, **kw)


def test_sent_and_failed_boleto_e_mails_are_each_reported_in_one_event() -> None:
    sent = [outcome(SENT, message_id=f"<b{i}@example.com>", smtp_code=250) for i in range(2)]
    failed = outcome(FAILED, error="550 mailbox unavailable", smtp_code=550)
    uncertain = outcome(UNCERTAIN, error="no reply after DATA")
    (emails_sent, emails_failed) = outcome_events([sent[0], failed, sent[1], uncertain])

    subject, msg_id, payload = emails_sent
    assert subject == SUBJECT_EMAILS_SENT and msg_id.startswith("emails-sent:")
    assert uuid.UUID(msg_id.removeprefix("emails-sent:"))
    assert events_pb2.EmailsSent.FromString(payload) == events_pb2.EmailsSent(
        emails=[
            events_pb2.SentEmail(debt_id=o.debt_id, upload_id=UPLOAD, message_id=o.message_id)
            for o in sent
        ]
    )

    subject, msg_id, payload = emails_failed
    assert subject == SUBJECT_EMAILS_FAILED and msg_id.startswith("emails-failed:")
    assert uuid.UUID(msg_id.removeprefix("emails-failed:"))
    assert events_pb2.EmailsFailed.FromString(payload) == events_pb2.EmailsFailed(
        emails=[
            events_pb2.FailedEmail(
                debt_id=failed.debt_id,
                upload_id=UPLOAD,
                reason="550 mailbox unavailable",
                smtp_code=550,
                uncertain=False,
            ),
            events_pb2.FailedEmail(
                debt_id=uncertain.debt_id,
                upload_id=UPLOAD,
                reason="no reply after DATA",
                uncertain=True,
            ),
        ]
    )


def test_only_a_failure_makes_only_emails_failed() -> None:
    [(subject, _, _)] = outcome_events([outcome(UNCERTAIN)])
    assert subject == SUBJECT_EMAILS_FAILED


def test_notices_and_updated_boletos_are_not_reported() -> None:
    others = [
        outcome(status, kind)
        for kind in (
            DeliveryKind.REMINDER,
            DeliveryKind.OVERDUE_NOTICE,
            DeliveryKind.RECEIPT,
            DeliveryKind.UPDATED,
        )
        for status in (SENT, FAILED, UNCERTAIN)
    ]
    assert outcome_events(others) == []
    [(subject, _, payload)] = outcome_events([*others, outcome(SENT, message_id="<b@x>")])
    assert subject == SUBJECT_EMAILS_SENT
    assert len(events_pb2.EmailsSent.FromString(payload).emails) == 1


def test_a_retry_or_a_dropped_notice_reports_nothing() -> None:
    dropped = outcome(PENDING, DeliveryKind.REMINDER, dropped=True)
    assert outcome_events([]) == []
    assert outcome_events([outcome(PENDING, retry_at=None), dropped]) == []


def test_each_batch_gets_ids_of_its_own() -> None:
    batch = [outcome(SENT), outcome(FAILED)]
    first, again = outcome_events(batch), outcome_events(batch)
    assert [p for _, _, p in first] == [p for _, _, p in again]
    assert {m for _, m, _ in first}.isdisjoint(m for _, m, _ in again)
