"""Hostile HTTP at every endpoint of the gateway: generated path parameters, query strings,
bodies and content types, through the real services. Whatever comes in, the answer is a status
below 500 with a problem document naming a reason (or the endpoint's own success), and the
gateway logs no traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_service.api.routes import ROUTES, Route
from tests.integration.gateway.conftest import Stack
from tests.support.gateway import client

pytestmark = pytest.mark.asyncio(loop_scope="module")
EXAMPLES = 25
TEXT = st.text(max_size=80)
ID_LIKE = st.one_of(
    TEXT,
    st.uuids().map(str),
    st.just(""),
    st.text(alphabet="0123456789abcdef-", min_size=1, max_size=40),
    st.just("../../etc/passwd"),
    st.just("%00"),
    st.text(min_size=500, max_size=2000),
)
QUERY = st.dictionaries(
    st.sampled_from(["pageSize", "page_size", "pageToken", "uploadId", "status", "kind",
                     "beneficiary", "includeUncertain", "fileName", "x", ""]),
    st.one_of(TEXT, st.integers().map(str), st.just("true")),
    max_size=4,
)  # fmt: skip
BODY = st.one_of(
    st.binary(max_size=300),
    st.dictionaries(
        st.text(max_size=12), st.one_of(TEXT, st.integers(), st.booleans()), max_size=4
    ).map(lambda d: __import__("json").dumps(d).encode()),
    st.just(b"{}"),
    st.just(b"name,governmentId,email,debtAmount,debtDueDate,debtId\n"),
)
CONTENT_TYPE = st.sampled_from(
    ["application/json", "text/csv", "multipart/form-data", "multipart/form-data; boundary=x",
     "application/octet-stream", "image/png", "", "text/plain; charset=latin-1"]
)  # fmt: skip


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.name.split(".")[0] in ("gateway", "uvicorn", "fastapi"):
            self.found.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def tracebacks() -> Iterator[_Tracebacks]:
    handler = _Tracebacks()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


def _path(route: Route, values: list[str]) -> str:
    path = route.path
    for name, value in zip(route.path_params, values, strict=False):
        path = path.replace("{" + name + "}", quote(value, safe="") or "x")
    return path


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_every_endpoint_answers_hostile_input_with_a_reason(
    stack: Stack, tracebacks: _Tracebacks, route: Route
) -> None:
    requests: list[tuple[str, dict[str, str], bytes, str]] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        ids=st.lists(ID_LIKE, min_size=2, max_size=2),
        query=QUERY,
        body=BODY,
        content_type=CONTENT_TYPE,
    )
    def collect(ids: list[str], query: dict[str, str], body: bytes, content_type: str) -> None:
        requests.append((_path(route, ids), query, body, content_type))

    collect()
    async with client(stack.url) as http:
        for path, query, body, content_type in requests:
            headers = {"Content-Type": content_type} if content_type else {}
            answer = await http.request(
                route.method,
                path,
                params=query,
                content=body if route.method != "GET" else None,
                headers=headers,
            )
            await answer.aread()
            where = f"{route.method} {path} {query} {content_type} {body[:60]!r}"
            assert answer.status_code < 500, f"{where}: {answer.status_code} {answer.text[:300]}"
            if answer.status_code >= 400:
                assert answer.headers["content-type"] == "application/problem+json", where
                assert answer.json()["reason"], f"{where}: {answer.text[:300]}"
    assert tracebacks.found == []
