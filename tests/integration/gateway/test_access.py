"""Every endpoint of the gateway called with a key of every role, and with none: the answer
must be the access table's for the RPC behind it (the gateway holds no privilege; the
services decide). Generated from the route table and `ACCESS`, so a new endpoint is tested
the day it is added, and an RPC without an endpoint fails tests/unit/test_gateway_routes.py."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from boletos.platform.access.roles import ACCESS, Role
from gateway_service.api.routes import ROUTES, Kind, Route
from tests.integration.gateway.conftest import Stack
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.gateway import client
from tests.support.waiting import wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

# The RPCs only services call each other with; people have no endpoint for them.
SERVICE_ONLY = {rpc for rpc, rule in ACCESS.items() if rule.roles == {Role.SERVICE, Role.ADMIN}}
ROLES = [Role.UPLOADER, Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.SERVICE]
NOBODY = None


# One endpoint per service: a key each has reached once none of them answers 401.
EACH_SERVICE = ("/v1/uploads", "/v1/remessas", "/v1/deliveries")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def keys(stack: Stack) -> AsyncIterator[dict[Role, str]]:
    made = {}
    async with client(stack.url) as http:
        for role in ROLES:
            answer = await http.post(
                "/v1/keys", json={"name": f"{role} key", "role": f"KEY_ROLE_{role.name}"}
            )
            assert answer.status_code == 201, answer.text
            made[role] = answer.json()["secretKey"]
    # A key made on ingest reaches the other services through the key bucket a moment later.
    for key in made.values():
        async with client(stack.url, key) as http:

            async def known_everywhere() -> bool:
                answers = [await http.get(path) for path in EACH_SERVICE]
                return all(a.status_code != 401 for a in answers)

            await wait_until(known_everywhere, 30)
    yield made


def _call(route: Route) -> dict[str, object]:
    """An answerable request for the route: ids that exist nowhere, bodies that parse."""
    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    if route.kind is Kind.UPLOAD:
        data = csv_bytes(valid_rows(1, seed=77))
        return {"url": path, "content": data, "headers": {"Content-Type": "text/csv"}}
    if route.kind is Kind.RETORNO:
        return {
            "url": path,
            "content": b"not a retorno\r\n",
            "headers": {"Content-Type": "text/plain"},
        }
    if route.method == "POST":
        return {"url": path, "json": {}}
    return {"url": path}


@pytest.mark.parametrize("role", [*ROLES, NOBODY], ids=lambda r: str(r or "no credential"))
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_each_endpoint_answers_each_role_as_the_table_says(
    stack: Stack, keys: dict[Role, str], route: Route, role: Role | None
) -> None:
    key = "" if role is None else keys[role]
    async with client(stack.url, key) as http:
        answer = await http.request(route.method, **_call(route))  # type: ignore[arg-type]
        await answer.aread()
    problem = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
    if role is None:
        assert answer.status_code == 401, answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")
    elif not ACCESS[route.rpc].allows({role}):
        assert answer.status_code == 403, answer.text
        assert problem["reason"], problem
    else:
        assert answer.status_code not in (401, 403), answer.text
        assert answer.status_code < 500, answer.text
