"""The BoletosIssued handler takes each boleto of an event on its own: the malformed ones are
refused (logged, counted, never queued) and the rest queued."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from prometheus_client import REGISTRY

from boletos.platform.consumer import Delivery
from boletos.v1 import events_pb2
from mailer_service.domain.boleto_mail import BoletoMail
from mailer_service.messaging.boletos_consumer import BoletosHandler
from tests.unit.mailer.test_boleto_mail import _event


class Queue:
    def __init__(self) -> None:
        self.queued: list[BoletoMail] = []

    def enqueue(self, mails: Sequence[BoletoMail]) -> int:
        self.queued.extend(mails)
        return len(mails)


def _refused() -> float:
    labels = {"event": "BoletosIssued"}
    return REGISTRY.get_sample_value("boletos_events_refused_total", labels) or 0.0


def test_a_malformed_boleto_is_refused_and_the_others_of_its_event_queued() -> None:
    good = _event()
    bad = [
        _event(debt_id="x\r\nBcc: evil@example.com"),
        _event(upload_id="../../etc"),
        _event(due_date="amanhã"),
        _event(amount_cents=-1),
    ]
    queue, woken = Queue(), []
    handler = BoletosHandler(queue, lambda: woken.append(True))
    event = events_pb2.BoletosIssued(boletos=[bad[0], good, *bad[1:]])
    before = _refused()
    asyncio.run(handler([Delivery(event, 1, cast(Any, None))]))
    assert [m.debt_id for m in queue.queued] == [good.debt_id]
    assert woken == [True]
    assert _refused() - before == len(bad)


def test_an_event_of_malformed_boletos_only_queues_nothing() -> None:
    queue, woken = Queue(), []
    handler = BoletosHandler(queue, lambda: woken.append(True))
    event = events_pb2.BoletosIssued(boletos=[_event(upload_id="")])
    asyncio.run(handler([Delivery(event, 1, cast(Any, None))]))
    assert queue.queued == [] and woken == []
