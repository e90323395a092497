"""The debtor's page through the real services: the link from a captured e-mail opens, in a
real headless Chromium, the right amount and linha digitável, copies the Pix code, shows a QR
code that scans to it, and downloads a PDF whose barcode scans; a forged, cut or expired link
says so in Portuguese and reveals nothing; the page keeps out of frames and caches; a client
walking tokens is slowed down."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from boletos.platform.payment_links import LinkKeys, new_key_line, parse_keys, read_keys
from boletos_testing.cpf import valid_cpf
from gateway_service.domain.brazil import reais
from tests.integration.gateway.conftest import Stack
from tests.support import access
from tests.support.browser import accessibility_problems, headless_chromium
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.gateway import client, running_gateway
from tests.support.scan import rasterize, scan, scan_qr
from tests.support.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")
# Where the pages' screenshots go for the docs, when asked (docs/images).
SCREENSHOTS = os.environ.get("BOLETOS_SCREENSHOTS", "")


async def _mailed_debt(stack: Stack, seed: int) -> tuple[str, str]:
    """A debt uploaded and e-mailed: its id and the page link its e-mail carries."""
    row = valid_rows(1, seed=seed)[0].changed(government_id=valid_cpf(seed)).with_address(0)
    async with client(stack.url) as http:
        made = await http.post("/v1/uploads", files={"file": ("one.csv", csv_bytes([row]))})
        assert made.status_code == 201, made.text

    def mailed() -> bool:
        return any(m["X-Boleto-Debt-Id"] == row.debt_id for m in stack.sink.messages)

    async def arrived() -> bool:
        return mailed()

    await wait_until(arrived, 60)
    [message] = [m for m in stack.sink.messages if m["X-Boleto-Debt-Id"] == row.debt_id]
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    [link] = [w for w in text.split() if w.startswith(f"{stack.url}/p/")]
    return row.debt_id, link


def _keys() -> LinkKeys:
    return read_keys(str(access.secrets().payment_link_keys))


async def _boleto(stack: Stack, debt_id: str) -> dict[str, Any]:
    async with client(stack.url) as http:
        answer = await http.get(f"/v1/boletos/{debt_id}")
    return answer.json()["boleto"]


def _shot(driver: WebDriver, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / name))


async def test_a_debtor_opens_their_link_copies_the_pix_code_and_gets_the_pdf(
    stack: Stack, tmp_path: Path
) -> None:
    debt_id, link = await _mailed_debt(stack, 8101)
    boleto = await _boleto(stack, debt_id)
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    def in_the_browser() -> tuple[str, str, str, bytes, bytes]:
        with headless_chromium(trust_test_certificates=True, downloads=downloads) as driver:
            driver.set_window_size(390, 1400)  # a phone's width
            driver.execute_cdp_cmd(
                "Browser.grantPermissions",
                {
                    "origin": stack.url,
                    "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
                },
            )
            driver.get(link)
            amount = driver.find_element(By.ID, "amount-due").text
            line = driver.find_element(By.ID, "digitable-line").get_attribute("value") or ""
            _shot(driver, "debtor-page.png")
            assert accessibility_problems(driver) == []
            driver.find_element(By.CSS_SELECTOR, 'button[data-copy="pix-code"]').click()
            copied = driver.execute_async_script(
                "const done = arguments[0];"
                "navigator.clipboard.readText().then(done, e => done('error: ' + e));"
            )
            assert driver.find_element(By.ID, "copied").get_attribute("textContent") == (
                "Código copiado"
            )
            qr = driver.find_element(By.CSS_SELECTOR, ".qr svg").screenshot_as_png
            driver.find_element(By.ID, "pdf").click()
            deadline = time.monotonic() + 30
            while not list(downloads.glob("*.pdf")) and time.monotonic() < deadline:
                time.sleep(0.1)
            [pdf] = list(downloads.glob("*.pdf"))
            return amount, line, copied, qr, pdf.read_bytes()

    amount, line, copied, qr, pdf = await asyncio.to_thread(in_the_browser)
    assert amount == reais(int(boleto["amountCents"]))
    assert line == boleto["digitableLine"]
    assert copied == boleto["pixPayload"] and copied
    (tmp_path / "qr.png").write_bytes(qr)
    assert scan_qr(tmp_path / "qr.png") == [boleto["pixPayload"]]
    assert pdf.startswith(b"%PDF")
    assert scan(rasterize(pdf, tmp_path, 300)) == [boleto["barcode"]]


async def test_the_page_shows_nothing_personal_but_the_masked_document(stack: Stack) -> None:
    debt_id, link = await _mailed_debt(stack, 8102)
    row = valid_rows(1, seed=8102)[0]
    async with client(stack.url, "") as anonymous:
        page = await anonymous.get(link)
    assert page.status_code == 200
    cpf = valid_cpf(8102)
    assert f"***.{cpf[3:6]}.{cpf[6:9]}-**" in page.text
    for private in (row.name, row.email, cpf, row.debt_id):
        assert private not in page.text.replace(link.rsplit("/", 1)[1], ""), private
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


async def test_a_forged_cut_or_foreign_link_is_not_found_and_says_what_to_do(stack: Stack) -> None:
    debt_id, link = await _mailed_debt(stack, 8103)
    token = link.rsplit("/", 1)[1]
    foreign = parse_keys(new_key_line(_keys().current.key_id)).sign(debt_id, dt.date(2099, 1, 1))
    other_debt = (
        _keys()
        .sign(debt_id, dt.date(2099, 1, 1))
        .replace(token.split(".")[2], token.split(".")[2][:-2] + "AA")
    )
    async with client(stack.url, "") as anonymous:
        for bad in (token[:-1], token[:-1] + ("A" if token[-1] != "A" else "B"), foreign,
                    other_debt, "nothing", "1." + "A" * 600):  # fmt: skip
            for path in (f"/p/{bad}", f"/p/{bad}/boleto.pdf"):
                answer = await anonymous.get(path)
                assert answer.status_code == 404, (path, answer.text)
                assert "Link não encontrado" in answer.text
                assert "%PDF" not in answer.text


async def test_an_expired_link_names_whom_to_ask(stack: Stack) -> None:
    debt_id, _ = await _mailed_debt(stack, 8104)
    ended = _keys().sign(debt_id, dt.date.today() - dt.timedelta(days=2))
    async with client(stack.url, "") as anonymous:
        answer = await anonymous.get(f"/p/{ended}")
    assert answer.status_code == 410
    assert "Este link expirou" in answer.text
    assert "Cobranças Exemplo Ltda" in answer.text


async def test_a_client_walking_tokens_is_slowed_down(stack: Stack) -> None:
    async with (
        running_gateway(
            stack.ingest, stack.boleto, stack.mailer, PAGE_RATE_PER_MINUTE="6", PAGE_RATE_BURST="3"
        ) as url,
        client(url, "") as anonymous,
    ):
        answers = [await anonymous.get(f"/p/1.k1.guess{n}.20990101.AAAA") for n in range(5)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
    assert int(answers[3].headers["retry-after"]) >= 1
    assert "Muitas tentativas" in answers[3].text
