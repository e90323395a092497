"""The operator console in a real headless Chromium, through the gateway and the real
services: an operator signs in with a key, sends a file and watches its progress to the end,
opens a refused row, and sends a failed e-mail again; a viewer sees no retry button and cannot
retry by posting the form anyway; requests without the session's CSRF token or from another
origin are refused; the session cookie keeps out of scripts and other sites."""

from __future__ import annotations

import asyncio
import os
import ssl
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from boletos_cli.bank.decisions import answer
from boletos_testing.cpf import valid_cpf
from tests.integration.gateway.conftest import Stack
from tests.support import access
from tests.support.browser import accessibility_problems, headless_chromium
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.gateway import client

pytestmark = pytest.mark.asyncio(loop_scope="module")
SCREENSHOTS = os.environ.get("BOLETOS_SCREENSHOTS", "")
REFUSED = "refuse-me@example.com"
BAD_ROW = "Ana,123,not-an-email,10.00,2030-01-01,console-bad-row"
# The retry form a viewer is not shown, built by hand with the session's own CSRF token.
FORGED_RETRY = """
const form = document.createElement("form");
form.method = "post";
form.action = "/console/deliveries/retry";
const fields = {
  csrf: document.querySelector("meta[name=csrf-token]").content,
  upload_id: new URLSearchParams(location.search).get("upload_id"),
};
for (const [name, value] of Object.entries(fields)) {
  const input = document.createElement("input");
  input.name = name;
  input.value = value;
  form.appendChild(input);
}
document.body.appendChild(form);
form.submit();
"""


async def _key(stack: Stack, role: str) -> str:
    async with client(stack.url) as http:
        made = await http.post(
            "/v1/keys", json={"name": f"{role} person", "role": f"KEY_ROLE_{role}"}
        )
        assert made.status_code == 201, made.text
        key = made.json()["secretKey"]
    async with client(stack.url, key) as http:
        # The other services learn the key from the bucket within seconds: each of the three
        # must, or a page calling one that has not yet is refused.
        for _ in range(150):
            answers = [await http.get(p) for p in ("/v1/caller", "/v1/remessas", "/v1/deliveries")]
            if all(answer.status_code != 401 for answer in answers):
                break
            await asyncio.sleep(0.2)
    return key


def _sign_in(driver: WebDriver, url: str, key: str) -> None:
    driver.get(f"{url}/console/login")
    assert accessibility_problems(driver) == []
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "who"))


def _shot(driver: WebDriver, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / name))


async def test_an_operator_sends_a_file_follows_it_and_retries_a_failed_e_mail(
    stack: Stack, tmp_path: Path
) -> None:
    key = await _key(stack, "OPERATOR")
    rows = [
        r.changed(government_id=valid_cpf(9300 + n)).with_address(n)
        for n, r in enumerate(valid_rows(3, seed=93))
    ]
    rows[0] = rows[0].changed(email=REFUSED)
    path = tmp_path / "console.csv"
    path.write_bytes(csv_bytes([*rows, BAD_ROW]))
    stack.sink.reply = lambda rcpt: "550 5.1.1 no such mailbox" if rcpt == REFUSED else None

    def in_the_browser() -> None:
        with headless_chromium(trust_test_certificates=True) as driver:
            driver.set_window_size(1100, 1200)
            _sign_in(driver, stack.url, key)
            assert "operator" in driver.find_element(By.ID, "who").text
            driver.find_element(By.ID, "file").send_keys(str(path))
            driver.find_element(By.ID, "send").click()
            WebDriverWait(driver, 90).until(
                lambda d: d.find_element(By.ID, "progress-text").text.startswith("Concluído")
            )
            assert driver.find_element(By.ID, "progress").get_attribute("value") == "100"
            assert (
                "2 e-mails enviados, 1 com falha"
                in driver.find_element(By.ID, "progress-text").text
            )
            _shot(driver, "console-upload.png")
            assert accessibility_problems(driver) == []
            driver.find_element(By.ID, "upload-link").click()
            WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "errors"))
            refused = driver.find_element(By.ID, "line-5").text
            assert "5" in refused and "email" in refused.lower()
            _shot(driver, "console-errors.png")
            assert accessibility_problems(driver) == []
            driver.find_element(By.ID, "failed-emails").click()
            table = (
                WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "deliveries")).text
            )
            assert "r***@example.com" in table and REFUSED not in table
            _shot(driver, "console-deliveries.png")
            assert accessibility_problems(driver) == []
            stack.sink.reply = lambda _rcpt: None  # the mailbox exists now
            driver.find_element(By.CSS_SELECTOR, "button.retry").click()
            notice = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "notice"))
            assert notice.text.startswith("1 ")

    await asyncio.to_thread(in_the_browser)

    async def resent() -> bool:
        return REFUSED in stack.sink.recipients

    for _ in range(300):
        if await resent():
            break
        await asyncio.sleep(0.2)
    assert stack.sink.recipients.count(REFUSED) == 1


async def _failed_upload(stack: Stack, seed: int) -> str:
    """An upload whose one e-mail the SMTP server refused for good."""
    address = f"refused-{seed}@example.com"
    row = valid_rows(1, seed=seed)[0].changed(government_id=valid_cpf(seed), email=address)
    stack.sink.reply = lambda rcpt: "550 5.1.1 no such mailbox" if rcpt == address else None
    async with client(stack.url) as http:
        made = await http.post("/v1/uploads", files={"file": ("f.csv", csv_bytes([row]))})
        upload_id = str(made.json()["summary"]["uploadId"])
        for _ in range(300):
            progress = (await http.get(f"/v1/uploads/{upload_id}")).json()
            failed = await http.get(
                "/v1/deliveries", params={"uploadId": upload_id, "status": "DELIVERY_STATUS_FAILED"}
            )
            if failed.status_code == 200 and failed.json()["deliveries"]:
                return upload_id
            await asyncio.sleep(0.2)
    raise AssertionError(f"no failed e-mail in {progress}")


async def test_a_viewer_sees_no_retry_and_cannot_retry_anyway(stack: Stack) -> None:
    key = await _key(stack, "VIEWER")
    upload_id = await _failed_upload(stack, 9401)

    def in_the_browser() -> tuple[list[str], str, int]:
        with headless_chromium(trust_test_certificates=True) as driver:
            _sign_in(driver, stack.url, key)
            driver.get(f"{stack.url}/console/deliveries?upload_id={upload_id}")
            # There is something to retry: an operator would see the button here.
            assert "failed" in driver.find_element(By.ID, "deliveries").text
            buttons = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "button.retry")]
            assert not driver.find_elements(By.ID, "file")
            driver.execute_script(FORGED_RETRY)
            WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "error"))
            return buttons, driver.find_element(By.ID, "error").text, 0

    buttons, error, _ = await asyncio.to_thread(in_the_browser)
    assert buttons == []
    assert "may not call" in error and "RetryFailed" in error


async def _session(http: httpx.AsyncClient, stack: Stack, key: str) -> str:
    signed = await http.post("/console/login", data={"key": key}, headers={"Origin": stack.url})
    assert signed.status_code == 303, signed.text
    cookie = signed.headers["set-cookie"].lower()
    for attribute in ("httponly", "secure", "samesite=strict", "path=/"):
        assert attribute in cookie, cookie
    home = await http.get("/console")
    return home.text.split('name="csrf-token" content="')[1].split('"')[0]


async def test_changes_need_the_sessions_token_and_the_consoles_origin(stack: Stack) -> None:
    key = await _key(stack, "OPERATOR")
    async with client(stack.url, "", follow_redirects=False) as http:
        csrf = await _session(http, stack, key)
        form = {"upload_id": "00000000-0000-0000-0000-000000000000"}
        no_token = await http.post(
            "/console/deliveries/retry", data=form, headers={"Origin": stack.url}
        )
        assert no_token.status_code == 403
        elsewhere = await http.post(
            "/console/deliveries/retry",
            data={**form, "csrf": csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert elsewhere.status_code == 403
        script = await http.post(
            "/console/api/uploads", content=b"name\n", headers={"Content-Type": "text/csv"}
        )
        assert script.status_code == 403 and script.json()["reason"] == "CSRF_REFUSED"
        page = await http.get("/console")
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


async def test_a_wrong_key_or_no_session_gets_the_sign_in_page(stack: Stack) -> None:
    async with client(stack.url, "", follow_redirects=False) as http:
        wrong = await http.post(
            "/console/login", data={"key": "bk_nothing"}, headers={"Origin": stack.url}
        )
        assert wrong.status_code == 401 and "Chave não aceita" in wrong.text
        for path in ("/console", "/console/deliveries", "/console/boletos"):
            answer = await http.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
        http.cookies.set("__Host-boletos-console", "forged", domain="127.0.0.1")
        forged = await http.get("/console")
        assert forged.status_code == 303


async def test_an_admin_makes_a_key_sees_it_once_and_revokes_it(stack: Stack) -> None:
    key = await _key(stack, "ADMIN")

    def in_the_browser() -> str:
        with headless_chromium(trust_test_certificates=True) as driver:
            driver.set_window_size(1100, 1000)
            _sign_in(driver, stack.url, key)
            driver.find_element(By.LINK_TEXT, "Chaves").click()
            WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "name"))
            driver.find_element(By.ID, "name").send_keys("Bia, atendimento")
            driver.find_element(By.ID, "role").send_keys("viewer")
            driver.find_element(By.ID, "create-key").click()
            made = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "new-key"))
            secret = made.get_attribute("value") or ""
            _shot(driver, "console-keys.png")
            assert accessibility_problems(driver) == []
            row = next(
                r
                for r in driver.find_elements(By.CSS_SELECTOR, "#keys tbody tr")
                if "Bia, atendimento" in r.text
            )
            assert "viewer" in row.text and "ativa" in row.text
            row.find_element(By.CSS_SELECTOR, "button.revoke").click()
            # The page comes back with the key revoked: waited for, the old rows go stale.
            WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException]).until(
                lambda d: any(
                    "Bia, atendimento" in r.text and "revogada" in r.text
                    for r in d.find_elements(By.CSS_SELECTOR, "#keys tbody tr")
                )
            )
            # Shown once: the list never shows a secret again.
            assert secret not in driver.page_source
            return secret

    secret = await asyncio.to_thread(in_the_browser)
    assert secret.startswith("bk_")
    async with client(stack.url, secret) as revoked:
        assert (await revoked.get("/v1/caller")).status_code == 401


async def test_an_operator_cuts_a_remessa_downloads_it_and_sends_the_banks_retorno(
    stack: Stack, tmp_path: Path
) -> None:
    key = await _key(stack, "OPERATOR")
    rows = [
        r.changed(government_id=valid_cpf(9500 + n)).with_address(n)
        for n, r in enumerate(valid_rows(2, seed=95))
    ]
    async with client(stack.url) as http:
        made = await http.post("/v1/uploads", files={"file": ("bank.csv", csv_bytes(rows))})
        upload_id = made.json()["summary"]["uploadId"]
        for _ in range(300):
            listed = await http.get("/v1/boletos", params={"uploadId": upload_id})
            if listed.status_code == 200 and len(listed.json()["boletos"]) == 2:
                break
            await asyncio.sleep(0.2)

    def cut_and_download() -> tuple[str, bytes]:
        with headless_chromium(trust_test_certificates=True) as driver:
            _sign_in(driver, stack.url, key)
            driver.find_element(By.LINK_TEXT, "Remessas").click()
            WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "cut")).click()
            notice = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "notice"))
            link = driver.find_element(By.CSS_SELECTOR, "#remessas tbody a")
            href = link.get_attribute("href") or ""
            cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
            assert notice.text[0].isdigit()
            # The download, with the browser's session cookie.
            context = ssl.create_default_context(cafile=str(access.secrets().ca))
            with httpx.Client(verify=context, cookies=cookies) as browser_like:
                return href, browser_like.get(href).content

    href, remessa = await asyncio.to_thread(cut_and_download)
    assert remessa.startswith(b"0") and len(remessa.splitlines()) > 4  # a CNAB 240 file
    retorno = tmp_path / "banco.ret"
    # The bank pays every title on its due date.
    retorno.write_bytes(answer(remessa.decode("latin-1"), paid_share=1.0).text.encode("latin-1"))

    def send_retorno() -> str:
        with headless_chromium(trust_test_certificates=True) as driver:
            driver.set_window_size(1100, 1000)
            _sign_in(driver, stack.url, key)
            driver.get(f"{stack.url}/console/remessas")
            driver.find_element(By.ID, "retorno-file").send_keys(str(retorno))
            driver.find_element(By.ID, "send-retorno").click()
            result = WebDriverWait(driver, 30).until(
                lambda d: (
                    d.find_element(By.ID, "retorno-result").text.startswith("Retorno")
                    and d.find_element(By.ID, "retorno-result")
                )
            )
            _shot(driver, "console-remessas.png")
            assert accessibility_problems(driver) == []
            return str(result.text)

    text = await asyncio.to_thread(send_retorno)
    assert text.startswith("Retorno processado") and "registrados" in text

    # The debtor's page says it is paid, on the day the retorno says.
    [message] = [m for m in stack.sink.messages if m["X-Boleto-Debt-Id"] == rows[0].debt_id]
    body = message.get_body(("plain",))
    assert body is not None
    [link] = [w for w in body.get_content().split() if "/p/" in w]
    async with client(stack.url, "") as debtor, client(stack.url) as admin:
        page = await debtor.get(link)
        boleto = (await admin.get(f"/v1/boletos/{rows[0].debt_id}")).json()["boleto"]
    assert boleto["bankStatus"] == "BANK_STATUS_PAID"
    day = boleto["paidOn"]
    assert f"Pago em {day[8:10]}/{day[5:7]}/{day[:4]}" in page.text
    assert "Copiar código Pix" not in page.text


async def test_a_viewer_sees_no_billing_or_key_actions(stack: Stack) -> None:
    key = await _key(stack, "VIEWER")
    async with client(stack.url, "", follow_redirects=False) as http:
        await _session(http, stack, key)
        remessas = await http.get("/console/remessas")
        assert remessas.status_code == 200
        for absent in ('id="cut"', 'id="retorno-form"', '/file"', 'href="/console/keys"'):
            assert absent not in remessas.text, absent
        keys = await http.get("/console/keys")
        assert keys.status_code == 403 and "may not call" in keys.text


async def test_a_session_whose_key_was_revoked_goes_back_to_the_sign_in(stack: Stack) -> None:
    key = await _key(stack, "VIEWER")
    async with client(stack.url, "", follow_redirects=False) as http:
        await _session(http, stack, key)
        assert (await http.get("/console")).status_code == 200
        async with client(stack.url) as admin:
            key_id = key.split("_")[1]
            assert (await admin.delete(f"/v1/keys/{key_id}")).status_code == 200
        answer = await http.get("/console")
        assert (answer.status_code, answer.headers["location"]) == (303, "/console/login")
