"""A stand-in OpenID Connect provider on this machine: discovery, an authorization endpoint
that signs a person in at once (as a provider would after its own login page) and a token
endpoint that checks the code, the redirect and the PKCE verifier before it issues an access
token signed by the tests' identity provider."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.tokens import AUDIENCE, IdentityProvider


@dataclass
class Person:
    subject: str
    roles: list[str]


@dataclass
class Provider:
    issuer: str
    idp: IdentityProvider
    client_id: str = "boletos-console"
    # Who the next sign-in is.
    person: Person = field(default_factory=lambda: Person("ana.operadora", ["operator"]))
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (challenge, uri)
    refused: list[str] = field(default_factory=list)

    def service_env(self) -> dict[str, str]:
        """What the services are given to trust this provider's tokens."""
        return {**self.idp.service_env(), "AUTH_JWT_ISSUER": self.issuer}


@contextlib.contextmanager
def oidc_provider(idp: IdentityProvider) -> Iterator[Provider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    provider = Provider(f"http://127.0.0.1:{server.server_port}", idp)
    server.provider = provider  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    @property
    def provider(self) -> Provider:
        return self.server.provider  # type: ignore[attr-defined]

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        p = self.provider
        if url.path == "/.well-known/openid-configuration":
            self._json(
                200,
                {
                    "issuer": p.issuer,
                    "authorization_endpoint": f"{p.issuer}/authorize",
                    "token_endpoint": f"{p.issuer}/token",
                    "jwks_uri": f"{p.issuer}/jwks",
                },
            )
            return
        if url.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            ok = (
                query.get("response_type") == "code"
                and query.get("client_id") == p.client_id
                and query.get("code_challenge_method") == "S256"
                and "openid" in query.get("scope", "").split()
            )
            if not ok:
                p.refused.append(f"authorize {query}")
                self._json(400, {"error": "invalid_request"})
                return
            code = secrets.token_urlsafe(16)
            p.codes[code] = (query["code_challenge"], query["redirect_uri"])
            back = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
            self.send_response(302)
            self.send_header("Location", back)
            self.end_headers()
            return
        self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        p = self.provider
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        challenge, uri = p.codes.pop(form.get("code", ""), ("", ""))
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            self.path != "/token"
            or form.get("grant_type") != "authorization_code"
            or not challenge
            or computed != challenge
            or form.get("redirect_uri") != uri
            or form.get("client_id") != p.client_id
        ):
            p.refused.append(f"token {sorted(form)}")
            self._json(400, {"error": "invalid_grant"})
            return
        token = p.idp.token(p.person.subject, p.person.roles, issuer=p.issuer, audience=AUDIENCE)
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": 300})
