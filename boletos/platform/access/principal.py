"""Who is calling: set by the access interceptor for the length of one call."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from boletos.platform.access.roles import ACCESS, Role


@dataclass(frozen=True)
class Principal:
    # "key:<key id>" or "jwt:<subject>": what uploads are owned by and audit lines name.
    id: str
    roles: frozenset[Role]
    name: str = ""
    # The beneficiaries it may upload for; empty: every one.
    beneficiaries: frozenset[str] = frozenset()
    # When it stops being valid (a token's exp, seconds since the epoch); None: until revoked.
    expires_at: float | None = None

    def may_upload_for(self, beneficiary: str) -> bool:
        return not self.beneficiaries or beneficiary in self.beneficiaries


# Calls that skip the interceptor (health checks) run without one.
_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "principal", default=None
)


def current() -> Principal | None:
    return _current.get()


def bind(principal: Principal) -> contextvars.Token[Principal | None]:
    return _current.set(principal)


def unbind(token: contextvars.Token[Principal | None]) -> None:
    _current.reset(token)


def only_own_uploads(method: str) -> str | None:
    """The caller's id when it may see only the uploads it made through `method` (it holds
    no role but uploader that the method allows), else None: no restriction."""
    who = current()
    rule = ACCESS.get(method)
    if who is None or rule is None or not rule.limited_to_own_uploads(who.roles):
        return None
    return who.id


def caller_id() -> str:
    who = current()
    return who.id if who else ""
