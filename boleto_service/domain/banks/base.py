"""What every bank layout provides: the campo livre, the nosso número and what the boleto
prints for the beneficiary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..errors import NossoNumeroOutOfRange, Problem

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig


class Bank(Protocol):
    """One bank's boleto layout. Implementations are stateless and registered by `code`."""

    @property
    def code(self) -> str:
        """Three-digit FEBRABAN bank code, the first barcode digits."""
        ...

    @property
    def name(self) -> str: ...

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        """Every reason this bank cannot issue boletos with `config` (empty when usable)."""
        ...

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        """The 25 bank-specific barcode digits for the boleto numbered `sequence`."""
        ...

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        """The nosso número exactly as printed on the boleto."""
        ...

    def agencia_codigo(self, config: BeneficiaryConfig) -> str:
        """The boleto's "Agência / Código do Beneficiário" box."""
        ...

    def printed_carteira(self, config: BeneficiaryConfig) -> str:
        """The boleto's "Carteira" box."""
        ...

    @property
    def especie_documento(self) -> str:
        """The boleto's "Espécie Doc." box: the kind of title the remessa registers."""
        ...


class PrintedAsAgenciaConta:
    """What most boletos print for the beneficiary: the agência and the conta with its DV, the
    carteira as configured, and a duplicata mercantil. A bank whose boleto prints otherwise
    overrides what differs."""

    especie_documento = "DM"

    def agencia_codigo(self, config: BeneficiaryConfig) -> str:
        return f"{config.agencia} / {config.conta}-{config.conta_dv}"

    def printed_carteira(self, config: BeneficiaryConfig) -> str:
        return config.carteira


def ensure_sequence(sequence: int, width: int, bank_name: str) -> str:
    """The sequence value zero-padded to the bank's nosso número width."""
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise NossoNumeroOutOfRange(f"nosso número sequence must be an int, got {sequence!r}")
    largest = 10**width - 1
    if not 1 <= sequence <= largest:
        raise NossoNumeroOutOfRange(
            f"{bank_name} nosso número sequence must be 1..{largest} ({width} digits), "
            f"got {sequence}"
        )
    return f"{sequence:0{width}d}"


def is_digits(value: str, min_length: int, max_length: int) -> bool:
    return value.isascii() and value.isdigit() and min_length <= len(value) <= max_length
