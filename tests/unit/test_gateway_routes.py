"""The gateway's route table: every RPC a person calls has exactly one endpoint."""

from __future__ import annotations

from boletos.platform.access.roles import ACCESS, REFLECTION, Role
from gateway_service.api.routes import ROUTES

# The RPCs only services call each other with; people have no endpoint for them.
SERVICE_ONLY = {rpc for rpc, rule in ACCESS.items() if rule.roles == {Role.SERVICE, Role.ADMIN}}


def test_every_rpc_has_an_endpoint() -> None:
    served = {route.rpc for route in ROUTES}
    assert served == set(ACCESS) - set(REFLECTION) - SERVICE_ONLY
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)
