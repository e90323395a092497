"""The gateway's log lines name routes, statuses and times: never a debtor's name, e-mail
address or CPF, a key, or a payment link's token, whatever passes through it."""

from __future__ import annotations

import json

import pytest

from boletos_testing.cpf import valid_cpf
from tests.integration.gateway.conftest import Stack
from tests.support import access
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.gateway import client
from tests.support.personal_data import json_log, personal_data
from tests.support.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")
GATEWAY_LOGGERS = ("gateway", "uvicorn", "fastapi", "starlette")


def _gateway_lines(written: str) -> list[str]:
    """The lines of the gateway and the web stack under it; the services in this process
    have tests of their own."""
    return [
        line
        for line in written.splitlines()
        if json.loads(line)["logger"].split(".")[0] in GATEWAY_LOGGERS
    ]


async def test_nothing_personal_or_secret_reaches_the_gateways_log(stack: Stack) -> None:
    row = (
        valid_rows(1, seed=7301)[0]
        .changed(
            name="Zuleide Rastreável Quintanilha",
            email="zuleide.rastreavel@correio.example",
            government_id=valid_cpf(7301),
        )
        .with_address(0)
    )
    with json_log() as written:
        async with client(stack.url) as http:
            made = await http.post("/v1/uploads", files={"file": ("z.csv", csv_bytes([row]))})
            assert made.status_code == 201
            await http.get(f"/v1/boletos/{row.debt_id}")
            await http.get("/v1/uploads/not-an-id")

        async def mailed() -> bool:
            return any(m["X-Boleto-Debt-Id"] == row.debt_id for m in stack.sink.messages)

        await wait_until(mailed, 60)
        [message] = [m for m in stack.sink.messages if m["X-Boleto-Debt-Id"] == row.debt_id]
        body = message.get_body(("plain",))
        assert body is not None
        [link] = [w for w in body.get_content().split() if "/p/" in w]
        async with client(stack.url, "") as anonymous:
            assert (await anonymous.get(link)).status_code == 200
            assert (await anonymous.get(link + "x")).status_code == 404
    token = link.rsplit("/", 1)[1]
    lines = _gateway_lines(written.getvalue())
    assert any("http.request" in line for line in lines)
    gateway_log = "\n".join(lines)
    for secret in (*personal_data([row]), token, access.admin_key()):
        assert secret not in gateway_log, secret
