"""Composition root: the boleto service's parts, wired on the shared service runtime."""

from __future__ import annotations

import asyncio
import functools

from boleto_service.api.servicer import BoletoServicer
from boleto_service.config import Settings
from boleto_service.domain.issuing import BoletoIssuer
from boleto_service.messaging.debts_consumer import (
    DebtsHandler,
    consumer_spec,
    debts_consumer,
)
from boleto_service.service.instructions import Instruct
from boleto_service.service.issuing import IssueBoletos
from boleto_service.service.payment_pages import PaymentPages
from boleto_service.service.pdf import render_boleto
from boleto_service.service.remessas import RemessaDesk, Remessas, RemessaScheduler
from boleto_service.service.retornos import ProcessRetornos
from boleto_service.store.engine import HISTORY, create_engine, seed
from boleto_service.store.instructions import InstructionStore
from boleto_service.store.remessas import RemessaStore
from boleto_service.store.repository import BoletoStore
from boleto_service.store.retornos import RetornoStore
from boletos.platform import brasilia, runtime
from boletos.platform.runtime import ServiceRuntime
from boletos.v1 import boleto_pb2, boleto_pb2_grpc

NAME = "boleto_service"
SERVICE_NAME = boleto_pb2.DESCRIPTOR.services_by_name["BoletoService"].full_name


async def bootstrap(rt: ServiceRuntime, settings: Settings) -> None:
    engine = rt.engine(create_engine(settings.database_url))
    rt.schema(engine, HISTORY)
    seed(engine)
    store = BoletoStore(engine)
    js = await rt.jetstream()
    wake_relay = rt.outbox(store.outbox, js)

    beneficiaries = settings.beneficiaries
    issuers = {
        b.key: BoletoIssuer(b.config, settings.overdue, b.pix, b.first_number, b.discount)
        for b in beneficiaries
    }
    issue = IssueBoletos(store, issuers)
    handler = DebtsHandler(issue, on_commit=wake_relay)
    spec = consumer_spec(settings.ack_wait_seconds, settings.fetch_batch)
    rt.run_worker(debts_consumer(js, spec, handler), "debts-consumer")
    rt.track_lag(js, [(spec.stream, spec.durable)])
    remessa_store = RemessaStore(engine)
    remessas = RemessaDesk([Remessas(remessa_store, b, settings.remessa) for b in beneficiaries])
    if remessas.enabled:
        for desk in remessas.desks:
            rt.run_worker(RemessaScheduler(desk), f"remessa-scheduler-{desk.beneficiary.key}")
    rt.grpc(
        (
            SERVICE_NAME,
            boleto_pb2_grpc.add_BoletoServiceServicer_to_server,
            BoletoServicer(
                store,
                functools.partial(render_boleto, beneficiaries),
                remessas,
                ProcessRetornos(RetornoStore(engine), on_commit=wake_relay),
                Instruct(store, InstructionStore(engine)),
                PaymentPages(
                    settings.payment_link_keys,
                    store,
                    beneficiaries,
                    settings.overdue,
                    brasilia.today,
                ),
            ),
        ),
    )
    rt.summary(lambda: {"issued": handler.issued, "failed": handler.failed})


async def run(settings: Settings, stop: asyncio.Event) -> None:
    await runtime.run_service(settings, stop, NAME, bootstrap)


def main() -> int:
    return runtime.main(NAME, Settings.from_env, bootstrap, HISTORY)
