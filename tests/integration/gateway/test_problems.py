"""Each class of error as RFC 9457 problem details with the services' reason, the headers
every response carries, the OpenAPI document (valid, and complete), and /docs served from the
gateway itself."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from gateway_service.api.routes import ROUTES
from tests.integration.gateway.conftest import Stack
from tests.support.browser import headless_chromium
from tests.support.gateway import client, running_gateway
from tests.support.processes import free_port

pytestmark = pytest.mark.asyncio(loop_scope="module")
PROBLEM = "application/problem+json"
# Where the pages' screenshots go for the docs, when asked (docs/images).
SCREENSHOTS = os.environ.get("BOLETOS_SCREENSHOTS", "")


async def _problem(answer: httpx.Response, status: int, reason: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert (body["status"], body["reason"]) == (status, reason), body
    assert body["type"] == f"urn:boletos:problem:{reason}"
    assert body["title"] and body["detail"]
    return body


async def test_each_class_of_error_is_a_problem_with_its_reason(stack: Stack):
    async with client(stack.url) as http:
        body = await _problem(await http.get("/v1/uploads/not-a-uuid"), 400, "INVALID_ID")
        assert body["violations"] == [
            {"field": "upload_id", "description": "not an upload id (a UUID)"}
        ]
        missing = str(uuid.uuid4())
        body = await _problem(await http.get(f"/v1/uploads/{missing}"), 404, "UPLOAD_NOT_FOUND")
        assert body["metadata"] == {"upload": missing}
        await _problem(await http.get("/v1/uploads?pageSize=lots"), 400, "INVALID_FIELD")
        await _problem(await http.get("/v1/uploads?colour=red"), 400, "INVALID_FIELD")
        await _problem(
            await http.post("/v1/deliveries/retry", content=b"{not json"), 400, "INVALID_FIELD"
        )
        await _problem(
            await http.post("/v1/deliveries/retry", json={"uploadId": 7}), 400, "INVALID_FIELD"
        )
        await _problem(
            await http.post("/v1/deliveries/retry", content=b"{" + b" " * 70_000 + b"}"),
            413,
            "BODY_TOO_LARGE",
        )
        await _problem(
            await http.post("/v1/uploads", content=b"x", headers={"Content-Type": "image/png"}),
            415,
            "INVALID_BODY",
        )
        await _problem(
            await http.post("/v1/uploads", files={"other": ("a.csv", b"x")}), 400, "INVALID_BODY"
        )
        await _problem(await http.get("/v2/nothing"), 404, "ROUTE_NOT_FOUND")
        await _problem(await http.put("/v1/uploads"), 405, "METHOD_NOT_ALLOWED")
        # A header the ingest service refuses, before any row is stored.
        refused = await http.post(
            "/v1/uploads?beneficiary=nobody",
            content=b"name\n",
            headers={"Content-Type": "text/csv"},
        )
        await _problem(refused, 400, "BENEFICIARY_UNKNOWN")
    async with client(stack.url, "") as anonymous:
        answer = await anonymous.get("/v1/uploads")
        await _problem(answer, 401, "CREDENTIAL_REFUSED")
        assert answer.headers["www-authenticate"] == 'Bearer realm="boletos"'


async def test_a_service_that_does_not_answer_is_a_503():
    dead = f"127.0.0.1:{free_port()}"
    async with running_gateway(dead, dead, dead) as url, client(url) as http:
        await _problem(await http.get("/v1/uploads"), 503, "SERVICE_UNAVAILABLE")


async def test_every_response_keeps_out_of_frames_caches_and_sniffing(stack: Stack):
    async with client(stack.url) as http:
        for path in ("/v1/uploads", "/v2/nothing", "/docs", "/openapi.json", "/healthz"):
            answer = await http.get(path)
            assert answer.headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path
            assert answer.headers["x-content-type-options"] == "nosniff", path
            assert answer.headers["referrer-policy"] == "no-referrer", path
            assert answer.headers["strict-transport-security"].startswith("max-age="), path
            assert "server" not in answer.headers, path
        assert (await http.get("/v1/uploads")).headers["cache-control"] == "no-store"


async def test_the_openapi_document_is_valid_and_lists_every_route(stack: Stack):
    async with client(stack.url, "") as anonymous:
        document = (await anonymous.get("/openapi.json")).json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert listed == {(r.method, r.path) for r in ROUTES}
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.operation_id
        assert "Roles:" in operation["description"]
        assert "401" in operation["responses"], route


async def test_docs_are_served_from_the_gateway_itself(stack: Stack):
    async with client(stack.url, "") as anonymous:
        page = await anonymous.get("/docs")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
            assert asset in page.text
            assert (await anonymous.get(asset)).status_code == 200
        assert (await anonymous.get("/docs/init.js")).status_code == 200


async def test_swagger_ui_renders_every_operation_in_a_real_browser(stack: Stack) -> None:
    def rendered() -> int:
        with headless_chromium(trust_test_certificates=True) as driver:
            driver.set_window_size(1280, 2000)
            driver.get(f"{stack.url}/docs")
            WebDriverWait(driver, 30).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(ROUTES)
            )
            if SCREENSHOTS:
                Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(Path(SCREENSHOTS) / "api-docs.png"))
            errors = [
                entry
                for entry in driver.get_log("browser")
                if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
            ]
            assert not errors, errors
            return len(driver.find_elements(By.CSS_SELECTOR, ".opblock"))

    assert await asyncio.to_thread(rendered) == len(ROUTES)
