"""`boletos stack --sample` closes the billing loop by itself: the boleto service's remessa is
answered by the stack's simulated bank, whose retorno reaches the boleto service, so the
sample's boletos end up registered, rejected and paid, the ingest service counts the payments
and the mailer sends each payer who paid a receipt."""

from __future__ import annotations

import json
import re
import signal
import stat
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from boletos.v1 import boleto_pb2, boleto_pb2_grpc
from boletos_cli.bank import is_paid
from tests.integration.test_stack import (
    READY_LINE,
    StackFactory,
    StackProcess,
    _left_behind,
    cli,
    stack_factory,  # noqa: F401 - the fixture
)

# The sample's 37 accepted rows: 4 have no CPF (a client id, or 11 digits whose check digits
# are wrong) and go in no remessa; 3 of the 33 sent have a CEP no post office uses.
SENT, LEFT_OUT, BAD_CEP = 33, 4, 3
SETTLE_SECONDS = 60.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _boletos(stack: StackProcess, upload_id: str) -> list[boleto_pb2.Boleto]:
    with stack.sync_channel(f"127.0.0.1:{stack.base_port + 1}") as channel:
        page = boleto_pb2_grpc.BoletoServiceStub(channel).ListBoletos(
            boleto_pb2.ListBoletosRequest(upload_id=upload_id, page_size=100), timeout=30
        )
    return list(page.boletos)


def _status(boleto: boleto_pb2.Boleto) -> str:
    return boleto_pb2.BankStatus.Name(boleto.bank_status).removeprefix("BANK_STATUS_")


def _receipts(maildir: Path) -> int:
    return sum(b"X-Boleto-Mail-Kind: receipt" in path.read_bytes() for path in maildir.iterdir())


def test_the_sample_is_registered_rejected_and_paid_by_the_stacks_bank(
    stack_factory: StackFactory,  # noqa: F811 - the fixture imported above
) -> None:
    stack = stack_factory("--sample")
    stack.wait_for_output(READY_LINE)
    stack.wait_for_output("What now")
    uploads = cli(stack, "uploads", "--json")
    assert uploads.returncode == 0, uploads.stderr
    upload_id = json.loads(uploads.stdout)["uploads"][0]["upload_id"]

    # Every boleto the bank was sent settles at the bank: the bank's answer has arrived.
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        boletos = _boletos(stack, upload_id)
        statuses = Counter(_status(b) for b in boletos)
        if statuses["ISSUED"] == LEFT_OUT and len(boletos) == SENT + LEFT_OUT:
            break
        assert time.monotonic() < deadline, (statuses, stack.logs())
        time.sleep(0.5)

    paid = [b for b in boletos if _status(b) == "PAID"]
    rejected = [b for b in boletos if _status(b) == "REJECTED"]
    assert len(rejected) == BAD_CEP
    assert all(b.rejection_reason.startswith("48 CEP inválido") for b in rejected)
    assert statuses["REGISTERED"] + len(paid) == SENT - BAD_CEP
    assert 0 < len(paid) < SENT - BAD_CEP
    # Paid on the due date, the amount charged, exactly the titles the hash picks.
    for boleto in paid:
        assert boleto.paid_cents == boleto.amount_cents and not boleto.paid_amount_differs
        assert boleto.paid_on == boleto.due_date
    registrable = [b for b in boletos if _status(b) in ("REGISTERED", "PAID")]
    assert {b.nosso_numero for b in paid} == {
        b.nosso_numero for b in registrable if is_paid(b.nosso_numero, 0.3)
    }
    assert all(b.remessa_id for b in boletos if _status(b) != "ISSUED")

    # One remessa, one retorno beside its marker, both for the service's user alone. The
    # bank writes the marker once the boleto service has answered it, which is after the
    # statuses above changed: waited for, not assumed.
    retornos = stack.data_dir / "retornos"
    expected = ["001_1234_123456_000001.ret", "001_1234_123456_000001.ret.sent"]
    deadline = time.monotonic() + SETTLE_SECONDS
    while sorted(p.name for p in retornos.iterdir()) != expected:
        assert time.monotonic() < deadline, (list(retornos.iterdir()), stack.logs())
        time.sleep(0.2)
    assert stat.S_IMODE(retornos.stat().st_mode) == 0o700
    assert stat.S_IMODE((retornos / "001_1234_123456_000001.ret").stat().st_mode) == 0o600
    listed = cli(stack, "remessa", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    remessas = json.loads(listed.stdout)
    assert [r["titles"] for r in remessas["remessas"]] == [SENT]
    assert remessas["left_out"] == {"no_cpf_cnpj": LEFT_OUT}

    # The ingest service counts the payments; the mailer sends each payer a receipt.
    maildir = stack.data_dir / "mail" / "new"
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        status = json.loads(cli(stack, "status", upload_id, "--json").stdout)
        progress = status.get("progress", status)
        if progress.get("boletos_paid") == len(paid) and _receipts(maildir) == len(paid):
            break
        assert time.monotonic() < deadline, (progress, _receipts(maildir), stack.logs())
        time.sleep(0.5)
    assert progress["paid_cents"] == sum(b.paid_cents for b in paid)

    # The debt "what now" offers is one the bank paid, and `boletos boleto` says so.
    shown = re.search(r"boletos boleto (\S+)\s+\(paid", stack.output())
    assert shown is not None, stack.output()
    fetched = cli(stack, "boleto", shown.group(1))
    assert fetched.returncode == 0, fetched.stderr
    assert re.search(r"bank status\s+│\s+paid", fetched.stdout), fetched.stdout
    # The bank's lines say what it did in counts, never who.
    bank_lines = [line for line in stack.logs().splitlines() if "bank |" in line]
    assert any(f"{BAD_CEP} rejected (48 CEP inválido ×{BAD_CEP})" in x for x in bank_lines)
    assert any(
        line.strip().startswith("bank | sent 001_1234_123456_000001.ret") for line in bank_lines
    )
    names = [b.payer_name for b in boletos]
    assert not [x for x in bank_lines if any(name in x for name in names)]

    # Ctrl-C typed on the stack's terminal, as a user stops `make run`: following the sample's
    # upload must not have taken it from the stack for good, and each service ends its own way
    # (its stop line), none killed past its grace.
    children = stack.children()
    assert stack.stop(signal.SIGINT) == 0, stack.logs()
    assert _left_behind(children) == [], stack.logs()
    logs = stack.logs()
    assert "bank stopped" in logs
    for service in ("ingest", "boleto", "mailer", "gateway"):
        assert re.search(rf"^\s*{service} \| .*service\.stopped", logs, re.MULTILINE), service
    assert "killing" not in logs, logs
