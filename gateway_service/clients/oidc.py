"""The company's OpenID Connect provider, as the console signs people in through it: the
authorization code flow with PKCE (RFC 7636). The provider's endpoints come from its
discovery document; the code is exchanged for an access token, which the console then passes
to the services like any bearer credential (they check it against the same provider: the
AUTH_JWT_* settings)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

TIMEOUT_SECONDS = 10.0


class OidcError(Exception):
    """The provider refused the sign-in or answered something unusable; the message says
    what, without the code or any token."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: str = "openid profile"
    # A CA bundle for a provider with a private CA; empty: the system's roots.
    ca_file: str = ""


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


class OidcClient:
    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        verify: ssl.SSLContext | bool = True
        if settings.ca_file:
            verify = ssl.create_default_context(cafile=settings.ca_file)
        self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, verify=verify)

    async def close(self) -> None:
        await self._http.aclose()

    async def _discovered(self) -> dict[str, Any]:
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                answer = await self._http.get(url)
                answer.raise_for_status()
                metadata: dict[str, Any] = answer.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise OidcError(
                    f"the provider's discovery document: {type(exc).__name__}"
                ) from None
            if metadata.get("issuer") != self.settings.issuer:
                raise OidcError("the provider's discovery document names another issuer")
            self._metadata = metadata
        return self._metadata

    async def authorization_url(self, state: str, pkce: Pkce, redirect_uri: str) -> str:
        endpoint = (await self._discovered())["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.settings.scopes,
                "state": state,
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}?{query}"

    async def access_token(self, code: str, pkce: Pkce, redirect_uri: str) -> str:
        endpoint = (await self._discovered())["token_endpoint"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": pkce.verifier,
        }
        if self.settings.client_secret:
            form["client_secret"] = self.settings.client_secret
        try:
            answer = await self._http.post(endpoint, data=form)
            tokens = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"the provider's token endpoint: {type(exc).__name__}") from None
        token = tokens.get("access_token") if isinstance(tokens, dict) else None
        if answer.status_code != 200 or not isinstance(token, str):
            error = tokens.get("error", "") if isinstance(tokens, dict) else ""
            raise OidcError(f"the provider refused the code ({answer.status_code} {error})")
        return token
