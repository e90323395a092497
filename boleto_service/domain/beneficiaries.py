"""The beneficiaries a deployment collects for, each with its own bank account, by key.

A company collecting for several creditors (funds, clients) has one beneficiary account per
creditor and bank. An upload names the key of the one its debts are owed to; a deployment
with a single beneficiary lets uploads leave it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from boletos.platform.beneficiaries_file import DEFAULT_KEY, KEY_PATTERN

from .beneficiary import BeneficiaryConfig
from .discounts import DiscountPolicy
from .errors import BoletoDomainError
from .pix import PixMerchant
from .remessa_policy import CutPer, RemessaSettings


def counter_name(key: str) -> str:
    """The store's counter of a beneficiary's nosso números. The default beneficiary's is
    the service's own sequence, as it was before there could be several."""
    return "nosso_numero" if key == DEFAULT_KEY else f"nosso_numero:{key}"


class UnknownBeneficiary(BoletoDomainError):
    """An upload or a request named a beneficiary this deployment does not have."""


@dataclass(frozen=True, kw_only=True)
class Beneficiary:
    key: str
    config: BeneficiaryConfig
    # None: its boletos carry no Pix QR code.
    pix: PixMerchant | None = None
    # What some banks' remessas need besides the account: the agência's check digit and
    # Banco do Brasil's carteira variação.
    agencia_dv: str = ""
    variacao_carteira: str = ""
    # Where its nosso número counter starts: a bank's range (Sicredi numbers by year) or
    # the numbers a previous system already used.
    first_number: int = 1
    # The discount of every debt whose file row gives none; None: only the file's.
    discount: DiscountPolicy | None = None
    # Its own remessa schedule, where it differs from the service's (REMESSA_*): a bank or
    # creditor that wants files per upload, or a cut at another hour.
    remessa_per: CutPer | None = None
    remessa_cut_at: dt.time | None = None
    remessa_quiet_seconds: int | None = None

    def remessa_settings(self, service: RemessaSettings) -> RemessaSettings:
        """The service's remessa settings with this beneficiary's schedule in place."""
        return replace(
            service,
            per=self.remessa_per or service.per,
            cut_at=self.remessa_cut_at or service.cut_at,
            quiet_seconds=self.remessa_quiet_seconds or service.quiet_seconds,
        )


class Beneficiaries:
    """Every configured beneficiary, in the order configured; at least one."""

    def __init__(self, items: Sequence[Beneficiary]) -> None:
        if not items:
            raise ValueError("at least one beneficiary is needed")
        by_key: dict[str, Beneficiary] = {}
        for item in items:
            if not KEY_PATTERN.fullmatch(item.key):
                raise ValueError(
                    f"beneficiary key {item.key!r} must be lower-case letters, digits, '-' or "
                    "'_', at most 64, starting and ending with a letter or digit"
                )
            if item.key in by_key:
                raise ValueError(f"beneficiary key {item.key!r} appears twice")
            by_key[item.key] = item
        accounts = [(b.config.bank_code, b.config.agencia, b.config.conta) for b in items]
        if len(set(accounts)) != len(accounts):
            # Remessas are numbered per account: two beneficiaries on one would share NSAs.
            raise ValueError("two beneficiaries have the same bank, agência and conta")
        self._by_key = by_key

    @classmethod
    def single(cls, beneficiary: Beneficiary) -> Beneficiaries:
        return cls([beneficiary])

    def __iter__(self) -> Iterator[Beneficiary]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._by_key)

    @property
    def first(self) -> Beneficiary:
        return next(iter(self._by_key.values()))

    def get(self, key: str) -> Beneficiary:
        """The beneficiary of that key; "" names the only one when there is only one."""
        if not key:
            if len(self._by_key) == 1:
                return self.first
            raise UnknownBeneficiary(
                "this deployment collects for several beneficiaries; name one of: "
                + ", ".join(self._by_key)
            )
        found = self._by_key.get(key)
        if found is None:
            raise UnknownBeneficiary(
                f"no beneficiary {key!r} is configured; known: " + ", ".join(self._by_key)
            )
        return found

    def owning(self, bank_code: str, agencia: str, conta: str) -> Beneficiary | None:
        for item in self._by_key.values():
            c = item.config
            if (c.bank_code, c.agencia, c.conta) == (bank_code, agencia, conta):
                return item
        return None
