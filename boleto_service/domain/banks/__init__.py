"""Registry of bank layouts: adding a bank is one module plus one line in `_REGISTERED`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..errors import UnknownBank
from .banco_do_brasil import BancoDoBrasil
from .base import Bank
from .bradesco import Bradesco
from .caixa import Caixa
from .itau import Itau
from .santander import Santander
from .sicoob import Sicoob
from .sicredi import Sicredi

_REGISTERED: tuple[Bank, ...] = (
    BancoDoBrasil(),
    Bradesco(),
    Caixa(),
    Itau(),
    Santander(),
    Sicoob(),
    Sicredi(),
)

BANKS: Mapping[str, Bank] = MappingProxyType({bank.code: bank for bank in _REGISTERED})


def bank_for(code: str) -> Bank:
    try:
        return BANKS[code]
    except KeyError:
        known = ", ".join(f"{c} ({b.name})" for c, b in sorted(BANKS.items()))
        raise UnknownBank(f"no boleto layout for bank code {code!r}; supported: {known}") from None


__all__ = ["BANKS", "Bank", "bank_for"]
