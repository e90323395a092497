"""A relay that publishes lists merges each subject's pending events into few messages, and a
consumer reads every item of them, in order."""

from __future__ import annotations

from boletos.platform import outbox
from boletos.platform.outbox import Pending, as_message, merged
from boletos.v1 import events_pb2

SENT, FAILED = "mailer.emails.sent", "mailer.emails.failed"


def _sent(row_id: int, *debts: str) -> Pending:
    payload = events_pb2.EmailsSent(
        emails=[events_pb2.SentEmail(debt_id=d, upload_id="u", message_id=f"<{d}>") for d in debts]
    ).SerializeToString()
    return Pending(row_id, SENT, f"emails-sent:{row_id}", payload, f"trace-{row_id}")


def _failed(row_id: int, debt: str) -> Pending:
    payload = events_pb2.EmailsFailed(
        emails=[events_pb2.FailedEmail(debt_id=debt, upload_id="u", reason="550", smtp_code=550)]
    ).SerializeToString()
    return Pending(row_id, FAILED, f"emails-failed:{row_id}", payload)


def test_each_subjects_events_become_one_message_holding_every_item_in_order() -> None:
    events = [_sent(1, "a", "b"), _failed(2, "c"), _sent(3, "d"), _sent(4, "e", "f")]

    runs = merged(events)

    assert [[e.id for e in run] for run in runs] == [[1, 3, 4], [2]]
    sent, failed = (as_message(run) for run in runs)
    decoded = events_pb2.EmailsSent.FromString(sent.payload)
    assert [e.debt_id for e in decoded.emails] == ["a", "b", "d", "e", "f"]
    assert sent.msg_id == "emails-sent:1..emails-sent:4#3"
    assert sent.trace_context == "trace-1"
    # A run of one is the event itself, its id and all.
    assert failed == events[1]


def test_a_run_stops_short_of_the_size_a_message_may_have(monkeypatch) -> None:
    monkeypatch.setattr(outbox, "MERGED_MAX_BYTES", 200)
    events = [_sent(n, f"{n:036d}") for n in range(1, 9)]
    size = len(events[0].payload)

    runs = merged(events)

    per_run = 200 // size
    assert [len(run) for run in runs] == [per_run] * (8 // per_run) + [8 % per_run] * (
        8 % per_run > 0
    )
    assert all(len(as_message(run).payload) <= 200 for run in runs)
    assert [e.id for run in runs for e in run] == list(range(1, 9))
