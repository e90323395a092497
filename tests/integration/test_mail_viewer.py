"""The local stack's e-mails in a real headless browser: the SMTP catcher, as the stack runs
it, catches a boleto e-mail composed by the mailer with the boleto service's real PDF, and
its web page lists it, shows its bodies and serves the PDF; a payer name written as markup
shows as text and runs nothing."""

from __future__ import annotations

import datetime as dt
import email
import select
import smtplib
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from email.policy import default
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from boleto_service.documents.model import BoletoDocument
from boleto_service.documents.render import render_pdf
from boleto_service.domain.boleto import Boleto, Payer
from boleto_service.domain.issuing import issue_boleto
from boletos_testing.beneficiary import BENEFICIARY
from boletos_testing.mails import DATE, SETTINGS, sample_mails
from mailer_service.domain.compose import compose
from tests.support.browser import headless_chromium
from tests.support.processes import free_port

SENDER = "cobranca@example.com"
HOSTILE_NAME = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"


def _real_pdf() -> bytes:
    today = dt.date(2026, 12, 1)
    numbers = issue_boleto(BENEFICIARY, 1, 10_000, dt.date(2026, 12, 20), today)
    payer = Payer("Maria das Dores", "52998224725", 2, "maria@example.com")
    boleto = Boleto("00000000-0000-4000-8000-000000000001", "u", 1, 1, today, payer, numbers)
    return render_pdf(BoletoDocument.of(boleto, BENEFICIARY))


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[tuple[int, str]]:
    # A free port can be taken by another test's process before the catcher binds it; then
    # something else answers on it (a gRPC server resets an HTTP request). The catcher prints
    # its line only once both listeners are its own, and ends instead when a bind fails.
    for _attempt in range(3):
        smtp, web = free_port(), free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "boletos_cli.stack.smtp_catcher", "--port", str(smtp),
             "--maildir", str(tmp_path / "mail"), "--web-port", str(web)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        if ready and proc.stdout.readline().startswith("smtp catcher on"):
            break
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    else:
        pytest.fail("the catcher did not start on free ports in three attempts")
    try:
        yield smtp, f"http://127.0.0.1:{web}"
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def test_a_boleto_email_reads_in_a_browser_with_its_pdf(catcher) -> None:
    smtp_port, url = catcher
    pdf = _real_pdf()
    mail, other = sample_mails(2, accented=True)
    hostile = replace(other, payer_name=HOSTILE_NAME)
    with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
        for boleto in (mail, hostile):
            smtp.sendmail(SENDER, [boleto.email], compose(boleto, pdf, SETTINGS, date=DATE))
    sent = email.message_from_bytes(compose(mail, pdf, SETTINGS, date=DATE), policy=default)

    with headless_chromium() as browser:
        browser.get(url + "/")
        assert browser.find_element(By.TAG_NAME, "h1").text == "E-mails (2)"
        listed = browser.find_element(By.TAG_NAME, "tbody").text
        # Markup in a name is text on the page, and nothing of it ran.
        assert "<script>window.pwned=1</script>" in listed
        assert browser.execute_script("return window.pwned") is None

        browser.find_element(By.LINK_TEXT, str(sent["Subject"])).click()
        assert browser.find_element(By.TAG_NAME, "h1").text == str(sent["Subject"])
        text = browser.find_element(By.TAG_NAME, "pre").text
        assert mail.digitable_line in text and mail.payer_name in text
        frame = browser.find_element(By.TAG_NAME, "iframe")
        assert frame.get_attribute("sandbox") == ""
        browser.switch_to.frame(frame)
        assert mail.digitable_line in browser.find_element(By.TAG_NAME, "body").text
        browser.switch_to.default_content()

        link = browser.find_element(By.PARTIAL_LINK_TEXT, ".pdf")
        pdf_url = link.get_attribute("href")
        assert pdf_url is not None
    with urllib.request.urlopen(pdf_url, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "application/pdf"
        assert answer.headers["Content-Disposition"].startswith("inline")
        assert answer.read() == pdf
    with urllib.request.urlopen(pdf_url + "?download=1", timeout=10) as answer:
        assert answer.headers["Content-Disposition"].startswith("attachment")
    raw_url = pdf_url.rsplit("/part/", 1)[0] + "/raw"
    with urllib.request.urlopen(raw_url, timeout=10) as answer:
        assert answer.headers["Content-Type"] == "message/rfc822"
        assert bytes(sent["Message-ID"], "ascii") in answer.read()


@pytest.mark.parametrize("path", ["/m/..%2F..%2Fetc%2Fpasswd", "/m/.hidden", "/m/x/part/9", "/x"])
def test_nothing_outside_the_maildir_is_served(catcher, path: str) -> None:
    _, url = catcher
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url + path, timeout=10)
    assert refused.value.code == 404
