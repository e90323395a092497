"""A stand-in identity provider: an RSA key pair whose public half the services trust, and
tokens signed with it (or with another key, or claiming another issuer) to test them with."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://id.cobrancas.example/realms/boletos"
AUDIENCE = "boletos-api"
# Keycloak keeps realm roles here; a dotted claim path reaches them.
ROLES_CLAIM = "realm_access.roles"
KEY_ID = "boletos-test-1"


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class IdentityProvider:
    key: rsa.RSAPrivateKey
    public_key_file: Path

    @classmethod
    def create(cls, directory: Path) -> IdentityProvider:
        key = _private_key()
        path = directory / "idp-public.pem"
        path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return cls(key, path)

    def jwks(self) -> dict[str, Any]:
        """The public key as an identity provider publishes it."""
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}

    def service_env(self) -> dict[str, str]:
        return {
            "AUTH_JWT_ISSUER": ISSUER,
            "AUTH_JWT_AUDIENCE": AUDIENCE,
            "AUTH_JWT_PUBLIC_KEY_FILE": str(self.public_key_file),
            "AUTH_JWT_ROLES_CLAIM": ROLES_CLAIM,
            "AUTH_JWT_LEEWAY_SECONDS": "5",
        }

    def token(
        self,
        subject: str,
        roles: Iterable[str],
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        expires_in: float = 300,
        signed_by: rsa.RSAPrivateKey | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "nbf": now - 1,
            "exp": now + int(expires_in),
            "realm_access": {"roles": list(roles)},
        }
        return jwt.encode(claims, signed_by or self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def forged_token(self, subject: str, roles: Iterable[str]) -> str:
        """Right claims, signed by a key the services do not trust."""
        return self.token(subject, roles, signed_by=_private_key())
