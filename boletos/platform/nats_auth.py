"""How a service authenticates to NATS, and what it does when the server refuses it.

Without credentials anyone who reaches NATS can read the key bucket, add an admin key and
publish events (a fake BoletosPaid, a fake DebtsImported); with a user per service the server
grants each only what it needs (nats_permissions.py). A service without NATS_USER connects as
before, unauthenticated, so a deployment keeps working until it sets the variables;
production sets them (SECURITY.md).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import Counter

from boletos.platform.env import ConfigError, env_str
from boletos.platform.logs import get_logger

log = get_logger("nats")

REFUSED = Counter(
    "boletos_nats_refused",
    "Connections or operations the NATS server refused this service: wrong credentials "
    "(authorization) or a subject its permissions do not cover (permission).",
    ["reason"],
)

# Where each service's replies arrive: its own prefix, so no other user may subscribe to
# them (a pull consumer's messages come back on the fetching client's inbox).
INBOX_PREFIX = "_INBOX_"


@dataclass(frozen=True, kw_only=True)
class NatsAuth:
    """How a service authenticates to NATS: nobody (user ""), or a user and its password."""

    user: str = ""
    password: str = field(default="", repr=False)
    # A private CA for tls:// URLs; empty trusts the system's.
    ca_file: str = ""

    @classmethod
    def read(cls, env: Mapping[str, str]) -> NatsAuth:
        user = env_str(env, "NATS_USER", "")
        password_file = env_str(env, "NATS_PASSWORD_FILE", "")
        if bool(user) != bool(password_file):
            raise ConfigError("NATS_USER and NATS_PASSWORD_FILE go together: set both or neither")
        ca_file = env_str(env, "NATS_CA_FILE", "")
        if ca_file and not Path(ca_file).is_file():
            raise ConfigError(f"NATS_CA_FILE: no such file: {ca_file}")
        password = _secret(password_file) if password_file else ""
        return cls(user=user, password=password, ca_file=ca_file)

    @property
    def inbox_prefix(self) -> str:
        return f"{INBOX_PREFIX}{self.user}" if self.user else "_INBOX"

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for nats-py's connect()."""
        options: dict[str, Any] = {"inbox_prefix": self.inbox_prefix}
        if self.user:
            options.update(user=self.user, password=self.password)
        if self.ca_file:
            options["tls"] = ssl.create_default_context(cafile=self.ca_file)
        return options

    def masked(self) -> dict[str, object]:
        return {"user": self.user or "(none)", "ca_file": self.ca_file}


def _secret(path: str) -> str:
    try:
        text = Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"NATS_PASSWORD_FILE: cannot read {path}: {exc.strerror}") from None
    if not text:
        raise ConfigError(f"NATS_PASSWORD_FILE: {path} is empty")
    return text


# -- refusals -----------------------------------------------------------------------------


def refusal(exc: Exception) -> str | None:
    """ "authorization" or "permission" when the server refused this connection's
    credentials or one of its subjects; None for any other error."""
    text = str(exc).lower()
    if "authorization violation" in text or type(exc).__name__ == "AuthorizationError":
        return "authorization"
    if "permissions violation" in text:
        return "permission"
    return None


def report_refusal(reason: str, exc: Exception, url: str) -> None:
    """A refusal needs a person: credentials or permissions out of step with the server."""
    REFUSED.labels(reason).inc()
    # The server's message names the subject, never a password or message content.
    log.error(f"nats.{reason}_refused", url=url, error=str(exc) or type(exc).__name__)


def without_credentials(url: str) -> str:
    """NATS_URL fit for a log line: a `user:password@` in any of its servers left out."""
    return ",".join(_host_part(server) for server in url.split(","))


def _host_part(server: str) -> str:
    scheme, sep, rest = server.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else server.rpartition("@")[2]
