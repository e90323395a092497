"""Sicredi (748), cobrança simples com registro, boletos printed by the beneficiary.

Rules from the "Manual CNAB 240 Sicredi" (Banco Cooperativo Sicredi, Versão 1.4, Agosto/2019),
sections 3.3-3.4 (nosso número) and 7.3.1-7.3.2 (campo livre).

Beneficiary fields in Sicredi's terms:
- `agencia`: the cooperativa de crédito (4 digits), printed first in "0165.02.00623";
- `posto`: the cooperativa's posto (2 digits), the middle of that field;
- `codigo_beneficiario`: the código do beneficiário (5 digits) the cooperativa assigns;
- `conta` and `conta_dv`: the conta corrente, which only the CNAB 240 files carry;
- `carteira`: "1", carteira simples. Sicredi has no convênio, so `convenio` stays empty.

Nosso número, printed AA/BNNNNN-D: AA the year, B the byte de geração (2 to 9 when the
beneficiary numbers the title; 1 is kept for Sicredi's pre-printed slips), NNNNN a number the
beneficiary never repeats, and D a modulo 11 DV over cooperativa + posto + código do
beneficiário + AA + B + NNNNN.

The boleto's sequence is read as the eight digits AABNNNNN (sequence 25200001 prints
25/200001-D): a layout gets the configuration and the sequence but not the issue date, so the
year comes from the sequence too, and a Sicredi beneficiary's counter starts at AA200000 of the
current year. A sequence whose third digit is not a beneficiary's byte de geração (0 or 1, as
in every sequence below 2,000,000) is refused rather than printed with a byte the manual does not
allow.

Campo livre: tipo de cobrança "1" (com registro) + carteira "1" + nosso número with its DV (9)
+ cooperativa (4) + posto (2) + código do beneficiário (5) + "1" (the barcode carries an amount)
+ "0" + a modulo 11 DV of those 24 digits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checkdigits import mod11_remainder
from ..errors import NossoNumeroOutOfRange, Problem
from .base import PrintedAsAgenciaConta, ensure_sequence, is_digits

if TYPE_CHECKING:
    from ..beneficiary import BeneficiaryConfig

SEQUENCE_DIGITS = 8  # AA + B + NNNNN
COOPERATIVA_DIGITS = 4
POSTO_DIGITS = 2
CODIGO_BENEFICIARIO_DIGITS = 5
SUPPORTED_CARTEIRAS = ("1",)
# Bytes de geração a beneficiary may use; 1 marks numbers Sicredi itself assigned.
BENEFICIARY_BYTES = frozenset("23456789")
REGISTERED = "1"  # tipo de cobrança: the 2019 manual lists only com registro
HAS_AMOUNT = "1"  # issue_boleto refuses a zero amount, so the barcode always carries one


def sicredi_dv(digits: str) -> int:
    """Sicredi's modulo 11 DV, for the nosso número and the campo livre alike: 11 - remainder,
    with remainders 0 and 1 (which would give 11 and 10) printed as 0."""
    remainder = mod11_remainder(digits)
    return 0 if remainder < 2 else 11 - remainder


def nosso_numero_dv(cooperativa: str, posto: str, codigo_beneficiario: str, number: str) -> int:
    """The DV of `number` (the eight digits AABNNNNN) for this cooperativa, posto and código."""
    return sicredi_dv(cooperativa + posto + codigo_beneficiario + number)


def format_nosso_numero(digits: str) -> str:
    """AABNNNNND as printed: AA/BNNNNN-D."""
    return f"{digits[:2]}/{digits[2:8]}-{digits[8:]}"


class Sicredi(PrintedAsAgenciaConta):
    code = "748"
    name = "Sicredi"
    # Its remessa registers the duplicata mercantil por indicação (espécie 03), as Sicredi has
    # no plain duplicata mercantil.
    especie_documento = "DMI"

    def configuration_problems(self, config: BeneficiaryConfig) -> list[Problem]:
        problems: list[Problem] = []
        if config.carteira not in SUPPORTED_CARTEIRAS:
            problems.append(
                Problem(
                    "carteira",
                    "Sicredi carteira must be 1 (cobrança simples, the only carteira a "
                    f"beneficiary-printed boleto uses), got {config.carteira!r}",
                )
            )
        if not is_digits(config.posto, POSTO_DIGITS, POSTO_DIGITS):
            problems.append(
                Problem(
                    "posto",
                    f"Sicredi posto of the cooperativa must have {POSTO_DIGITS} digits "
                    f"(pad with a leading zero), got {config.posto!r}",
                )
            )
        if not is_digits(
            config.codigo_beneficiario, CODIGO_BENEFICIARIO_DIGITS, CODIGO_BENEFICIARIO_DIGITS
        ):
            problems.append(
                Problem(
                    "codigo_beneficiario",
                    f"Sicredi código do beneficiário must have {CODIGO_BENEFICIARIO_DIGITS} "
                    f"digits (pad with leading zeros), got {config.codigo_beneficiario!r}",
                )
            )
        if not is_digits(config.conta_dv, 1, 1):
            # The CNAB 240 header keeps the conta corrente's DV in a numeric field.
            problems.append(
                Problem(
                    "conta_dv",
                    f"Sicredi conta corrente DV must be one digit, got {config.conta_dv!r}",
                )
            )
        if config.convenio:
            problems.append(
                Problem(
                    "convenio",
                    "Sicredi has no convênio (the cooperativa, posto and código do "
                    f"beneficiário identify the account); leave it empty, got {config.convenio!r}",
                )
            )
        return problems

    def _nosso_numero_digits(self, config: BeneficiaryConfig, sequence: int) -> str:
        """The nine digits AABNNNNND."""
        number = ensure_sequence(sequence, SEQUENCE_DIGITS, self.name)
        byte = number[2]
        if byte not in BENEFICIARY_BYTES:
            raise NossoNumeroOutOfRange(
                f"Sicredi reads the sequence as AABNNNNN (year, byte de geração, number) and "
                f"the byte de geração must be 2 to 9; {sequence} gives {byte} "
                f"(the first usable sequence of year AA is AA200000)"
            )
        dv = nosso_numero_dv(config.agencia, config.posto, config.codigo_beneficiario, number)
        return f"{number}{dv}"

    def campo_livre(self, config: BeneficiaryConfig, sequence: int) -> str:
        body = (
            REGISTERED
            + config.carteira
            + self._nosso_numero_digits(config, sequence)
            + config.agencia
            + config.posto
            + config.codigo_beneficiario
            + HAS_AMOUNT
            + "0"
        )
        return f"{body}{sicredi_dv(body)}"

    def nosso_numero(self, config: BeneficiaryConfig, sequence: int) -> str:
        return format_nosso_numero(self._nosso_numero_digits(config, sequence))

    def agencia_codigo(self, config: BeneficiaryConfig) -> str:
        # AAAA.PP.CCCCC: cooperativa, posto and código do beneficiário.
        return f"{config.agencia}.{config.posto}.{config.codigo_beneficiario}"
