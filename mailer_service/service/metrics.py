"""The mailer's counts by kind of e-mail: created, sent, and notices a settled boleto was
spared. Counted once the change is committed, so a crash counts nothing twice."""

from __future__ import annotations

from prometheus_client import Counter

CREATED_BY_KIND = Counter(
    "boletos_mail_deliveries_created_total",
    "Deliveries queued, by kind (boleto, reminder, overdue_notice, receipt).",
    ["kind"],
)
SENT_BY_KIND = Counter(
    "boletos_mail_deliveries_sent_total",
    "Deliveries the SMTP server accepted, by kind.",
    ["kind"],
)
SKIPPED_SETTLED = Counter(
    "boletos_mail_notices_skipped_total",
    "Reminders and overdue notices not sent because the boleto was paid, written off or "
    "rejected (reason), seen when the scheduler looked (at_schedule) or when the notice was "
    "claimed to be sent (at_send).",
    ["kind", "reason", "when"],
)
