"""RequestInstruction and ListInstructions of boletos.v1.BoletoService.

BoletoServiceServicer sets `self._instruct` (a boleto_service.service.instructions.Instruct).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import grpc

from boleto_service.domain.instructions import (
    Instruction,
    InstructionKind,
    InstructionRefused,
    Request,
)
from boleto_service.service.instructions import BoletoNotFound, Instruct
from boletos.platform import errors
from boletos.platform.access.principal import caller_id
from boletos.v1 import boleto_pb2


def instruction_message(i: Instruction) -> boleto_pb2.Instruction:
    message = boleto_pb2.Instruction(
        instruction_id=i.instruction_id,
        debt_id=i.debt_id,
        kind=int(i.kind),  # type: ignore[arg-type]
        state=int(i.state),  # type: ignore[arg-type]
        new_due_date=i.new_due_date.isoformat() if i.new_due_date else "",
        rebate_cents=i.rebate_cents,
        remessa_id=i.remessa_id,
        reason=i.reason,
        beneficiary=i.beneficiary,
    )
    message.requested_at.FromDatetime(i.requested_at)
    if i.answered_at is not None:
        message.answered_at.FromDatetime(i.answered_at)
    return message


class InstructionRpcs:
    """Needs `self._instruct: Instruct`, set by the class that mixes this in."""

    _instruct: Instruct

    async def RequestInstruction(
        self, request: boleto_pb2.RequestInstructionRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.RequestInstructionResponse:
        debt_id = await _debt_id(request.debt_id, context)
        asked = await _request(request, context)
        try:
            instruction, created = await asyncio.to_thread(
                self._instruct.request, debt_id, asked, caller_id()
            )
        except BoletoNotFound:
            await errors.not_found(
                context, "boleto", debt_id, f"no boleto for debt {debt_id}", "BOLETO_NOT_ISSUED"
            )
        except InstructionRefused as exc:
            await errors.failed_precondition(context, exc.reason, f"boleto/{debt_id}", str(exc))
        return boleto_pb2.RequestInstructionResponse(
            instruction=instruction_message(instruction), created=created
        )

    async def ListInstructions(
        self, request: boleto_pb2.ListInstructionsRequest, context: grpc.aio.ServicerContext
    ) -> boleto_pb2.ListInstructionsResponse:
        debt_id = await _debt_id(request.debt_id, context)
        found = await asyncio.to_thread(self._instruct.of_debt, debt_id)
        return boleto_pb2.ListInstructionsResponse(
            instructions=[instruction_message(i) for i in found]
        )


async def _debt_id(raw: str, context: grpc.aio.ServicerContext) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        pass
    await errors.invalid_argument(context, "debt_id", "not a UUID", "INVALID_ID")


async def _request(
    request: boleto_pb2.RequestInstructionRequest, context: grpc.aio.ServicerContext
) -> Request:
    if request.kind not in {k.value for k in InstructionKind}:
        await errors.invalid_argument(
            context, "kind", "WRITE_OFF, DUE_DATE or REBATE", "INSTRUCTION_KIND_REQUIRED"
        )
    kind = InstructionKind(request.kind)
    new_due_date = None
    if kind is InstructionKind.DUE_DATE:
        try:
            new_due_date = dt.date.fromisoformat(request.new_due_date)
        except ValueError:
            await errors.invalid_argument(
                context, "new_due_date", "a date as YYYY-MM-DD", "NEW_DUE_DATE_INVALID"
            )
    elif request.new_due_date:
        await errors.invalid_argument(
            context, "new_due_date", "only for a DUE_DATE instruction", "NEW_DUE_DATE_INVALID"
        )
    if kind is not InstructionKind.REBATE and request.rebate_cents:
        await errors.invalid_argument(
            context, "rebate_cents", "only for a REBATE instruction", "REBATE_INVALID"
        )
    return Request(kind, new_due_date, request.rebate_cents)
