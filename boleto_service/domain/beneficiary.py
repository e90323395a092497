"""The beneficiary (cedente) and its bank account: who issues the boletos, and with which bank."""

from __future__ import annotations

from dataclasses import dataclass

from .banks import BANKS, Bank, bank_for
from .banks.base import is_digits
from .cnpj import cnpj_problem, format_cnpj, normalize_cnpj
from .errors import InvalidBeneficiaryConfig, Problem


@dataclass(frozen=True, kw_only=True)
class BeneficiaryConfig:
    """Validated on construction; every problem found is reported at once.

    Fields hold canonical text: CNPJ without punctuation, agência with 4 digits, DVs upper-case.
    `from_raw` builds one from values as people type them.
    """

    name: str
    cnpj: str
    bank_code: str
    agencia: str
    conta: str
    conta_dv: str
    convenio: str = ""
    carteira: str
    # The bank's own number for the beneficiary where it is not the conta: Caixa's and
    # Santander's código do beneficiário, Sicoob's código do cliente, Sicredi's código do
    # beneficiário (with `agencia` as the cooperativa and `posto` as its branch).
    codigo_beneficiario: str = ""
    posto: str = ""

    def __post_init__(self) -> None:
        problems = self._general_problems()
        if self.bank_code in BANKS and not problems:
            # Bank rules read the other fields, so they only run once those are well-formed.
            problems.extend(BANKS[self.bank_code].configuration_problems(self))
        if problems:
            raise InvalidBeneficiaryConfig(tuple(problems))

    def _general_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        for field in (
            "name", "cnpj", "bank_code", "agencia", "conta", "conta_dv", "carteira", "convenio",
            "codigo_beneficiario", "posto",
        ):  # fmt: skip
            if not isinstance(getattr(self, field), str):
                problems.append(
                    Problem(field, f"{field} must be text, got {getattr(self, field)!r}")
                )
        if problems:
            return problems
        if not self.name.strip():
            problems.append(Problem("name", "beneficiary name is empty"))
        cnpj_issue = cnpj_problem(self.cnpj)
        if cnpj_issue:
            problems.append(Problem("cnpj", cnpj_issue))
        if self.bank_code not in BANKS:
            known = ", ".join(sorted(BANKS))
            problems.append(
                Problem(
                    "bank_code",
                    f"bank code {self.bank_code!r} has no boleto layout; known: {known}",
                )
            )
        if not is_digits(self.agencia, 4, 4):
            problems.append(Problem("agencia", f"agência must have 4 digits, got {self.agencia!r}"))
        if not is_digits(self.conta, 1, 12):
            problems.append(Problem("conta", f"conta must be 1 to 12 digits, got {self.conta!r}"))
        if len(self.conta_dv) != 1:
            problems.append(
                Problem("conta_dv", f"conta DV must be one character, got {self.conta_dv!r}")
            )
        if not is_digits(self.carteira, 1, 3):
            problems.append(
                Problem("carteira", f"carteira must be 1 to 3 digits, got {self.carteira!r}")
            )
        if self.convenio and not is_digits(self.convenio, 1, 9):
            problems.append(Problem("convenio", f"convênio must be digits, got {self.convenio!r}"))
        if self.codigo_beneficiario and not is_digits(self.codigo_beneficiario, 1, 15):
            problems.append(
                Problem(
                    "codigo_beneficiario",
                    f"código do beneficiário must be digits, got {self.codigo_beneficiario!r}",
                )
            )
        if self.posto and not is_digits(self.posto, 1, 2):
            problems.append(Problem("posto", f"posto must be 1 or 2 digits, got {self.posto!r}"))
        return problems

    @classmethod
    def from_raw(
        cls,
        *,
        name: str,
        cnpj: str,
        bank_code: str,
        agencia: str,
        conta: str,
        conta_dv: str,
        carteira: str,
        convenio: str = "",
        codigo_beneficiario: str = "",
        posto: str = "",
    ) -> BeneficiaryConfig:
        """Tolerate surrounding blanks, a formatted CNPJ and a lower-case DV."""
        return cls(
            name=name.strip(),
            cnpj=normalize_cnpj(cnpj),
            bank_code=bank_code.strip(),
            agencia=agencia.strip(),
            conta=conta.strip(),
            conta_dv=conta_dv.strip().upper(),
            convenio=convenio.strip(),
            carteira=carteira.strip(),
            codigo_beneficiario=codigo_beneficiario.strip(),
            posto=posto.strip(),
        )

    @property
    def bank(self) -> Bank:
        return bank_for(self.bank_code)

    @property
    def cnpj_formatted(self) -> str:
        return format_cnpj(self.cnpj)

    @property
    def agencia_conta(self) -> str:
        """'Agência / Código do Beneficiário' as this bank's boleto prints it: '0810 / 53678-9'
        for most banks."""
        return self.bank.agencia_codigo(self)
