"""Instructions to the bank: the use case behind RequestInstruction and ListInstructions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from prometheus_client import Counter

from boleto_service.domain.boleto import Boleto
from boleto_service.domain.instructions import (
    Instruction,
    Request,
    check,
    settles_without_bank,
)
from boletos.platform.brasilia import local_day
from boletos.platform.logs import get_logger
from boletos.platform.nats_streams import SUBJECT_BOLETOS_WRITTEN_OFF
from boletos.platform.outbox import Event
from boletos.v1 import events_pb2

log = get_logger("instruction")

REQUESTED = Counter(
    "boletos_instructions_requested_total",
    "Instructions to the bank recorded (a repeated request: not), by kind.",
    ["kind"],
)


class BoletoLookup(Protocol):
    def get(self, debt_id: str) -> Boleto | None: ...


class InstructionLedger(Protocol):
    def request(
        self,
        boleto: Boleto,
        request: Request,
        requested_by: str,
        now: dt.datetime,
        settle_here: bool,
        settled_events: Sequence[Event] = (),
    ) -> tuple[Instruction, bool]: ...

    def find(self, debt_id: str, request: Request) -> Instruction | None: ...

    def of_debt(self, debt_id: str) -> list[Instruction]: ...


class BoletoNotFound(LookupError):
    pass


class Instruct:
    """Synchronous (the RPCs run it in a thread): it may block on the store."""

    def __init__(
        self,
        boletos: BoletoLookup,
        ledger: InstructionLedger,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._boletos = boletos
        self._ledger = ledger
        self._now = now

    def request(
        self, debt_id: str, request: Request, requested_by: str
    ) -> tuple[Instruction, bool]:
        """Raises BoletoNotFound, or InstructionRefused saying why the bank could not act."""
        boleto = self._boletos.get(debt_id)
        if boleto is None:
            raise BoletoNotFound(debt_id)
        earlier = self._ledger.find(debt_id, request)
        if earlier is not None:
            # Asked again (a retried call, a second operator): the first stands, whatever
            # happened to the boleto since.
            return earlier, False
        now = self._now()
        check(boleto, request, local_day(now))
        here = settles_without_bank(boleto, request)
        events = [_written_off(boleto)] if here else []
        instruction, created = self._ledger.request(
            boleto, request, requested_by, now, here, events
        )
        if created:
            REQUESTED.labels(request.kind.name.lower()).inc()
            log.info(
                "instruction.requested",
                debt_id=debt_id,
                upload_id=boleto.upload_id,
                kind=request.kind.name,
                state=instruction.state.name,
                instruction_id=instruction.instruction_id,
            )
        return instruction, created

    def of_debt(self, debt_id: str) -> list[Instruction]:
        return self._ledger.of_debt(debt_id)


def _written_off(boleto: Boleto) -> Event:
    """What a retorno's baixa announces, for a write-off no bank needed to confirm: the mailer
    stops reminding, ingest counts the debt settled."""
    message = events_pb2.BoletosWrittenOff(
        boletos=[
            events_pb2.BoletoStatusChange(
                debt_id=boleto.debt_id,
                upload_id=boleto.upload_id,
                reason="written off before it was sent to the bank",
            )
        ]
    )
    return (
        SUBJECT_BOLETOS_WRITTEN_OFF,
        f"boletos-written-off:instruction:{boleto.debt_id}",
        message.SerializeToString(),
    )
