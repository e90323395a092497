"""A debtor's payment link, opened: the token checked, the boleto found, its page built for
today. The link's signature is the only authority, so everything that can go wrong is one of
three answers, none of which says more than the link's holder may know."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from boleto_service.domain.beneficiaries import Beneficiaries
from boleto_service.domain.boleto import Boleto
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.payment_page import PaymentPage, page_for
from boleto_service.domain.pix_today import with_pix_for
from boletos.platform.payment_links import ExpiredLink, InvalidLink, Link, LinkKeys


class Boletos(Protocol):
    def get(self, debt_id: str) -> Boleto | None: ...


class LinksOff(Exception):
    """The deployment signs no payment links (PAYMENT_LINK_KEYS_FILE unset)."""


class UnknownLink(Exception):
    """Not a link this deployment made, or one for a boleto it does not have."""


class LinkEnded(Exception):
    """A genuine link past its last day: whom the debtor should ask instead."""

    def __init__(self, beneficiary_name: str, last_day: dt.date) -> None:
        super().__init__(f"the link ended on {last_day.isoformat()}")
        self.beneficiary_name = beneficiary_name
        self.last_day = last_day


@dataclass(frozen=True)
class OpenedLink:
    boleto: Boleto
    link: Link


class PaymentPages:
    def __init__(
        self,
        keys: LinkKeys | None,
        boletos: Boletos,
        beneficiaries: Beneficiaries,
        policy: OverduePolicy,
        today: Callable[[], dt.date],
    ) -> None:
        self._keys = keys
        self._boletos = boletos
        self._beneficiaries = beneficiaries
        self._policy = policy
        self._today = today

    def open(self, token: str) -> OpenedLink:
        """Blocking (reads the store); raises LinksOff, UnknownLink or LinkEnded."""
        if self._keys is None:
            raise LinksOff()
        try:
            link = self._keys.verify(token, self._today())
        except InvalidLink:
            raise UnknownLink() from None
        except ExpiredLink as ended:
            boleto = self._boletos.get(ended.debt_id)
            name = self._beneficiary(boleto)[0] if boleto is not None else ""
            raise LinkEnded(name, ended.last_day) from None
        boleto = self._boletos.get(link.debt_id)
        if boleto is None:
            raise UnknownLink()
        return OpenedLink(boleto, link)

    def page(self, opened: OpenedLink) -> PaymentPage:
        today = self._today()
        beneficiary = self._beneficiaries.get(opened.boleto.beneficiary)
        boleto = with_pix_for(opened.boleto, beneficiary.pix, today)
        config = beneficiary.config
        return page_for(boleto, config.name, config.cnpj, self._policy, today)

    def _beneficiary(self, boleto: Boleto) -> tuple[str, str]:
        config = self._beneficiaries.get(boleto.beneficiary).config
        return config.name, config.cnpj
