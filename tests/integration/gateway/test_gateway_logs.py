"""The gateway's log lines name routes, statuses and times: never a debtor's name, e-mail
address or CPF, a key, or a payment link's token, whatever passes through it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from boletos.platform import logs
from boletos_testing.cpf import valid_cpf
from tests.integration.gateway.conftest import Stack
from tests.support import access
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.gateway import client
from tests.support.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")
GATEWAY_LOGGERS = ("gateway", "uvicorn", "fastapi", "starlette")


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self._json = logs.JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in GATEWAY_LOGGERS:
            self.lines.append(self._json.format(record))


@pytest.fixture
def kept() -> Iterator[_Kept]:
    handler = _Kept()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_nothing_personal_or_secret_reaches_the_gateways_log(stack: Stack, kept: _Kept):
    row = (
        valid_rows(1, seed=7301)[0]
        .changed(
            name="Zuleide Rastreável Quintanilha",
            email="zuleide.rastreavel@correio.example",
            government_id=valid_cpf(7301),
        )
        .with_address(0)
    )
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
    assert any('"http.request"' in line or "http.request" in line for line in kept.lines)
    written = "\n".join(kept.lines)
    for secret in (row.name, row.email, row.government_id, token, access.admin_key()):
        assert secret not in written, secret
