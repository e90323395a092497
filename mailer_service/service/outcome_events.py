"""The events that report e-mails' outcomes to the rest of the system: EmailsSent and
EmailsFailed, encoded for the outbox. Stored with the outcomes they report."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from boletos.platform.nats_streams import SUBJECT_EMAILS_FAILED, SUBJECT_EMAILS_SENT
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2
from mailer_service.domain.delivery import DeliveryKind, DeliveryStatus, Outcome


def outcome_events(outcomes: Sequence[Outcome]) -> list[Event]:
    """At most one EmailsSent and one EmailsFailed for a batch of outcomes; none for a batch
    with nothing to report. Each event gets an id of its own."""
    # Only the boleto e-mails are reported: the upload's counts are of those, and the
    # events carry no kind to tell a reminder from them.
    boletos = [o for o in outcomes if o.kind == DeliveryKind.BOLETO]
    sent = [o for o in boletos if o.status == DeliveryStatus.SENT]
    # An uncertain e-mail is reported with the failures: a person has to look at it.
    failed = [o for o in boletos if o.status in (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN)]
    events: list[Event] = []
    if sent:
        payload = events_pb2.EmailsSent(
            emails=[
                events_pb2.SentEmail(
                    debt_id=o.debt_id, upload_id=o.upload_id, message_id=o.message_id
                )
                for o in sent
            ]
        ).SerializeToString()
        events.append((SUBJECT_EMAILS_SENT, f"emails-sent:{uuid.uuid4()}", payload))
    if failed:
        payload = events_pb2.EmailsFailed(
            emails=[
                events_pb2.FailedEmail(
                    debt_id=o.debt_id,
                    upload_id=o.upload_id,
                    reason=o.error,
                    smtp_code=o.smtp_code,
                    uncertain=o.status == DeliveryStatus.UNCERTAIN,
                )
                for o in failed
            ]
        ).SerializeToString()
        events.append((SUBJECT_EMAILS_FAILED, f"emails-failed:{uuid.uuid4()}", payload))
    return events
