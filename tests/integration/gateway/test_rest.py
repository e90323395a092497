"""The REST API through the gateway and the real services: a file in with curl and with a
raw body, its progress as Server-Sent Events to the end, then every read a person or a
program makes of it (errors, report, boleto, PDF, e-mail, remessa), as JSON in the protos'
own mapping."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import uuid

import pytest

from boletos_testing.cpf import valid_cpf
from tests.integration.gateway.conftest import Stack
from tests.support import access
from tests.support.csvdata import Row, csv_bytes, valid_rows
from tests.support.gateway import client

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD_ROW = "Ana,123,not-an-email,10.00,2030-01-01,bad-row-1"


def _rows(count: int, seed: int) -> list[Row]:
    """Rows a bank registers: a real CPF and an address each."""
    return [
        r.changed(government_id=valid_cpf(seed * 1000 + n)).with_address(n)
        for n, r in enumerate(valid_rows(count, seed=seed))
    ]


def _file(count: int, seed: int, bad: bool = True) -> bytes:
    rows = _rows(count, seed)
    return csv_bytes([*rows, BAD_ROW] if bad else rows)


async def _settled(stack: Stack, upload_id: str) -> list[dict[str, object]]:
    """Every progress event of the upload's stream, to the last."""
    events = []
    async with client(stack.url) as http:
        async with http.stream("GET", f"/v1/uploads/{upload_id}/events") as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/event-stream")
            kind = ""
            async for line in answer.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    assert kind == "progress", line
                    events.append(json.loads(line.removeprefix("data: "))["progress"])
    return events


async def test_a_file_sent_with_curl_goes_all_the_way_to_the_e_mails(stack: Stack, tmp_path):
    data = _file(6, seed=41)
    path = tmp_path / "debts.csv"
    path.write_bytes(data)
    s = access.secrets()
    answer = await asyncio.to_thread(
        subprocess.run,
        ["curl", "--silent", "--show-error", "--cacert", str(s.ca),
         "-H", f"Authorization: Bearer {access.admin_key()}",
         "-F", f"file=@{path}", "--include", f"{stack.url}/v1/uploads"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    head, _, body = answer.stdout.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 201"), head
    summary = json.loads(body)["summary"]
    assert (summary["fileName"], summary["rows"], summary["accepted"]) == ("debts.csv", "7", "6")
    assert summary["rejected"] == "1"
    assert f"location: /v1/uploads/{summary['uploadId']}" in head.lower()

    events = await _settled(stack, summary["uploadId"])
    last = events[-1]
    assert last["settled"] is True
    assert (last["boletosIssued"], last["emailsSent"]) == ("6", "6")
    sent = {m["X-Boleto-Debt-Id"] for m in stack.sink.messages}
    assert {r.debt_id for r in valid_rows(6, seed=41)} <= sent


async def test_a_raw_csv_body_is_an_upload_and_sending_it_again_is_the_same_one(stack: Stack):
    data = _file(3, seed=42, bad=False)
    key = str(uuid.uuid4())
    async with client(stack.url) as http:
        first = await http.post(
            "/v1/uploads?fileName=raw.csv",
            content=data,
            headers={"Content-Type": "text/csv", "Idempotency-Key": key},
        )
        again = await http.post(
            "/v1/uploads?fileName=raw.csv",
            content=data,
            headers={"Content-Type": "text/csv", "Idempotency-Key": key},
        )
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert first.json()["summary"]["uploadId"] == again.json()["summary"]["uploadId"]
    assert first.json()["summary"]["clientRequestId"] == key


async def test_the_reads_of_an_upload(stack: Stack):
    rows = _rows(4, seed=43)
    data = csv_bytes([*rows, BAD_ROW])
    async with client(stack.url) as http:
        made = await http.post("/v1/uploads", files={"file": ("reads.csv", data, "text/csv")})
        upload_id = made.json()["summary"]["uploadId"]
        await _settled(stack, upload_id)

        one = (await http.get(f"/v1/uploads/{upload_id}")).json()["summary"]
        assert (one["uploadId"], one["state"]) == (upload_id, "UPLOAD_STATE_COMPLETED")
        listed = (await http.get("/v1/uploads", params={"pageSize": 50})).json()["uploads"]
        assert upload_id in {u["uploadId"] for u in listed}

        errors = (await http.get(f"/v1/uploads/{upload_id}/errors")).json()["rowErrors"]
        assert {e["line"] for e in errors} == {"6"}
        assert all(e["message"] for e in errors)

        report = await http.get(f"/v1/uploads/{upload_id}/report")
        assert report.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(report.text)))
        assert [line["outcome"] for line in lines] == ["accepted"] * 4 + ["rejected"]
        assert {line["emailStatus"] for line in lines[:4]} == {"sent"}

        debt = rows[0].debt_id
        boleto = (await http.get(f"/v1/boletos/{debt}")).json()
        assert boleto["boleto"]["debtId"] == debt
        assert len(boleto["boleto"]["digitableLine"].replace(".", "").replace(" ", "")) == 47
        pdf = await http.get(f"/v1/boletos/{debt}/pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        page = (await http.get("/v1/boletos", params={"uploadId": upload_id})).json()
        assert {b["debtId"] for b in page["boletos"]} == {r.debt_id for r in rows}

        delivery = (await http.get(f"/v1/deliveries/{debt}")).json()
        assert delivery["delivery"]["status"] == "DELIVERY_STATUS_SENT"
        deliveries = (await http.get("/v1/deliveries", params={"uploadId": upload_id})).json()
        assert len(deliveries["deliveries"]) == 4
        retried = await http.post("/v1/deliveries/retry", json={"uploadId": upload_id})
        assert retried.status_code == 200, retried.text


async def test_remessas_are_cut_listed_and_downloaded(stack: Stack):
    async with client(stack.url) as http:
        made = await http.post("/v1/uploads", files={"file": ("r.csv", _file(2, 44, bad=False))})
        await _settled(stack, made.json()["summary"]["uploadId"])
        cut = await http.post("/v1/remessas")
        assert cut.status_code == 200, cut.text
        listed = (await http.get("/v1/remessas")).json()["remessas"]
        assert listed
        remessa = listed[0]
        file = await http.get(f"/v1/remessas/{remessa['remessaId']}")
    assert file.status_code == 200
    assert remessa["fileName"] in file.headers["content-disposition"]
    assert file.headers["cache-control"] == "no-store"
    assert len(file.content) == int(remessa["sizeBytes"])


async def test_keys_are_made_listed_and_revoked_by_an_admin(stack: Stack):
    async with client(stack.url) as http:
        made = await http.post("/v1/keys", json={"name": "viewer", "role": "KEY_ROLE_VIEWER"})
        assert made.status_code == 201, made.text
        key_id = made.json()["key"]["keyId"]
        assert key_id in {k["keyId"] for k in (await http.get("/v1/keys")).json()["keys"]}
        secret = made.json()["secretKey"]
        async with client(stack.url, secret) as viewer:
            assert (await viewer.get("/v1/uploads")).status_code == 200
            revoked = await http.delete(f"/v1/keys/{key_id}")
            assert revoked.status_code == 200, revoked.text
            assert (await viewer.get("/v1/uploads")).status_code == 401
