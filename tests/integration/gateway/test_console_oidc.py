"""Signing in to the console through the company's OpenID Connect provider, in a real
headless Chromium: the authorization code flow with PKCE, the provider's access token then
passed to the services, which check it against the same provider and take its roles. A
callback without the sign-in it belongs to is refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import accessibility_problems, headless_chromium
from tests.support.gateway import client, running_gateway
from tests.support.ingest import running_ingest
from tests.support.oidc_provider import Person, oidc_provider
from tests.support.processes import NatsServer
from tests.support.tokens import IdentityProvider


async def test_an_operator_signs_in_through_the_company_provider(tmp_path: Path) -> None:
    idp = IdentityProvider.create(tmp_path)
    nats = NatsServer(tmp_path / "nats").start()
    try:
        with oidc_provider(idp) as provider:
            async with (
                running_ingest(
                    f"sqlite:///{tmp_path / 'ingest.db'}", nats.url, **provider.service_env()
                ) as ingest,
                running_gateway(
                    ingest.address,
                    ingest.address,
                    ingest.address,
                    CONSOLE_OIDC_ISSUER=provider.issuer,
                    CONSOLE_OIDC_CLIENT_ID=provider.client_id,
                ) as url,
            ):

                def sign_in() -> str:
                    with headless_chromium(trust_test_certificates=True) as driver:
                        driver.get(f"{url}/console/login")
                        assert accessibility_problems(driver) == []
                        driver.find_element(By.ID, "sign-in-oidc").click()
                        who = WebDriverWait(driver, 20).until(
                            lambda d: d.find_element(By.ID, "who")
                        )
                        # An operator may send files: the page offers it.
                        assert driver.find_elements(By.ID, "file")
                        return str(who.text)

                shown = await asyncio.to_thread(sign_in)
                assert shown == "jwt:ana.operadora (operator)"
                assert provider.refused == []

                # A person the provider knows but who holds no role here gets nothing.
                provider.person = Person("visitante", [])

                def sign_in_without_role() -> str:
                    with headless_chromium(trust_test_certificates=True) as driver:
                        driver.get(f"{url}/console/login")
                        driver.find_element(By.ID, "sign-in-oidc").click()
                        error = WebDriverWait(driver, 20).until(
                            lambda d: d.find_element(By.ID, "login-error")
                        )
                        return str(error.text)

                assert "sem papel" in await asyncio.to_thread(sign_in_without_role)

                # A callback the browser did not start (no flow cookie), or with another state.
                async with client(url, "", follow_redirects=False) as http:
                    forged = await http.get("/console/oidc/callback?code=x&state=y")
                    assert forged.status_code == 400
                    started = await http.get("/console/oidc/start")
                    assert started.status_code == 303
                    assert started.headers["location"].startswith(f"{provider.issuer}/authorize")
                    wrong_state = await http.get("/console/oidc/callback?code=x&state=other")
                    assert wrong_state.status_code == 400
    finally:
        nats.stop()
