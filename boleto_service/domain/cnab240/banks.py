"""The banks whose CNAB 240 cobrança layout this product writes and reads, by bank code."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..errors import UnknownBank
from .banco_do_brasil import BancoDoBrasil
from .bank import CnabBank
from .bradesco import Bradesco
from .caixa import Caixa
from .itau import Itau
from .santander import Santander
from .sicoob import Sicoob
from .sicredi import Sicredi

_REGISTERED: tuple[CnabBank, ...] = (
    BancoDoBrasil(),
    Bradesco(),
    Caixa(),
    Itau(),
    Santander(),
    Sicoob(),
    Sicredi(),
)
CNAB_BANKS: Mapping[str, CnabBank] = MappingProxyType({bank.code: bank for bank in _REGISTERED})


def cnab_bank_for(code: str) -> CnabBank:
    try:
        return CNAB_BANKS[code]
    except KeyError:
        known = ", ".join(sorted(CNAB_BANKS))
        raise UnknownBank(f"no CNAB 240 layout for bank {code!r}; known: {known}") from None
