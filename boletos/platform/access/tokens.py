"""JWT bearer tokens from the company's identity provider (Keycloak, Auth0, Entra ID, ...),
checked with PyJWT: the signature (RS256 or ES256) against the provider's JWKS or a PEM
public key, then `iss`, `aud`, `exp` and `nbf` with a small leeway. Roles come from a claim
(`roles` by default; a dotted path such as `realm_access.roles` reaches into Keycloak's),
as a list or a space-separated string; names that are not roles here are ignored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from boletos.platform.access.principal import Principal
from boletos.platform.access.roles import Role

ALGORITHMS = ["RS256", "ES256"]


@dataclass(frozen=True)
class JwtSettings:
    issuer: str
    audience: str
    jwks_url: str = ""
    public_key_file: str = ""
    roles_claim: str = "roles"
    leeway_seconds: float = 30.0


class TokenVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwks_url, lifespan=300) if settings.jwks_url else None
        self._pem = (
            Path(settings.public_key_file).read_bytes() if settings.public_key_file else None
        )

    def verify(self, token: str) -> Principal | None:
        """The token's principal, or None for any token that does not check out. Blocking
        (a JWKS fetch, now and then): call it off the event loop."""
        s = self._settings
        try:
            key: Any = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._pem
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, ValueError):
            return None
        roles = frozenset(_roles(claims, s.roles_claim))
        return Principal(
            f"jwt:{claims['sub']}",
            roles,
            str(claims.get("name", "")),
            expires_at=float(claims["exp"]) + s.leeway_seconds,
        )


def _roles(claims: Mapping[str, Any], path: str) -> list[Role]:
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    names = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
    known = {role.value for role in Role}
    return [Role(n) for n in names if isinstance(n, str) and n in known]
