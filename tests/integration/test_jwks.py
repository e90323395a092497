"""Tokens checked against an identity provider's JWKS endpoint, served over HTTP here."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from boletos.platform.access.roles import Role
from boletos.platform.access.settings import AccessSettings
from boletos.platform.access.tokens import TokenVerifier
from tests.support.tokens import IdentityProvider


@pytest.fixture
def idp(tmp_path: Path) -> IdentityProvider:
    return IdentityProvider.create(tmp_path)


@pytest.fixture
def jwks_url(idp: IdentityProvider) -> Iterator[str]:
    body = json.dumps(idp.jwks()).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/realms/boletos/protocol/openid-connect/certs"
    finally:
        server.shutdown()
        thread.join(5)


def test_a_token_is_checked_against_the_providers_published_keys(
    idp: IdentityProvider, jwks_url: str
) -> None:
    env = {**idp.service_env(), "GRPC_INSECURE": "true", "AUTH_JWT_JWKS_URL": jwks_url}
    del env["AUTH_JWT_PUBLIC_KEY_FILE"]
    settings = AccessSettings.read(env).jwt
    assert settings is not None
    verifier = TokenVerifier(settings)

    who = verifier.verify(idp.token("ops-maria", ["operator", "uma_authorization"]))
    assert who is not None
    assert (who.id, who.roles) == ("jwt:ops-maria", frozenset({Role.OPERATOR}))
    assert verifier.verify(idp.forged_token("ops-maria", ["operator"])) is None
    assert verifier.verify(idp.token("late", ["operator"], expires_in=-120)) is None
