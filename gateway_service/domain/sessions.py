"""The operator console's session: the signed-in credential, sealed (encrypted and
authenticated, Fernet) into the session cookie with a CSRF token and its end. The gateway
keeps no session store: the cookie is the session, and nobody without the gateway's key can
read the credential in it or make one. Pure, given the key and the time."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

COOKIE = "__Host-boletos-console"
FLOW_COOKIE = "__Host-boletos-sign-in"
# A sign-in through the identity provider must come back within this.
FLOW_SECONDS = 600


@dataclass(frozen=True)
class Session:
    credential: str  # the API key (or token) the services are called with
    csrf: str  # echoed by every form and script request that changes something
    name: str  # who signed in, for the page's header


class Sessions:
    def __init__(self, key: bytes, lifetime_seconds: int) -> None:
        self._fernet = Fernet(key)
        self.lifetime_seconds = lifetime_seconds

    @staticmethod
    def new_key() -> bytes:
        return Fernet.generate_key()

    def seal(self, credential: str, name: str, now: float) -> tuple[str, Session]:
        session = Session(credential, secrets.token_urlsafe(32), name)
        body = json.dumps({"c": credential, "x": session.csrf, "n": name}).encode()
        return self._fernet.encrypt_at_time(body, int(now)).decode("ascii"), session

    def seal_flow(self, state: str, verifier: str, now: float) -> str:
        """A sign-in on its way through the identity provider: the state it must come back
        with and the PKCE verifier, for the callback alone."""
        body = json.dumps({"s": state, "v": verifier}).encode()
        return self._fernet.encrypt_at_time(body, int(now)).decode("ascii")

    def open_flow(self, cookie: str, now: float) -> tuple[str, str] | None:
        """(state, verifier) of a sign-in started in the last FLOW_SECONDS; None otherwise."""
        try:
            body = self._fernet.decrypt_at_time(cookie.encode("ascii"), FLOW_SECONDS, int(now))
            fields = json.loads(body)
            return str(fields["s"]), str(fields["v"])
        except (InvalidToken, ValueError, KeyError, UnicodeError):
            return None

    def open(self, cookie: str, now: float) -> Session | None:
        """The session a cookie holds; None when it is forged, altered or past its life."""
        try:
            body = self._fernet.decrypt_at_time(
                cookie.encode("ascii"), self.lifetime_seconds, int(now)
            )
            fields = json.loads(body)
            return Session(str(fields["c"]), str(fields["x"]), str(fields["n"]))
        except (InvalidToken, ValueError, KeyError, UnicodeError):
            return None


def csrf_matches(session: Session, presented: str) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf, presented)
