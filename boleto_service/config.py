"""The boleto service's configuration, read from the environment in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.cnab240 import RemessaHeader, cnab_bank_for
from boleto_service.domain.errors import InvalidBeneficiaryConfig, InvalidOverduePolicy
from boleto_service.domain.pix import PixError, PixMerchant, validate_merchant
from boleto_service.domain.remessa_policy import (
    MAX_TITLES,
    CutPer,
    RemessaSettings,
    parse_cut_at,
)
from boletos.platform.settings import (
    ConfigError,
    ServiceSettings,
    env_choice,
    env_decimal,
    env_int,
    env_str,
    process_env,
)

# The variable behind each beneficiary field, to name it when the field is refused.
BENEFICIARY_VARIABLES = {
    "name": "BENEFICIARY_NAME",
    "cnpj": "BENEFICIARY_CNPJ",
    "bank_code": "BENEFICIARY_BANK_CODE",
    "agencia": "BENEFICIARY_AGENCIA",
    "conta": "BENEFICIARY_CONTA",
    "conta_dv": "BENEFICIARY_CONTA_DV",
    "convenio": "BENEFICIARY_CONVENIO",
    "carteira": "BENEFICIARY_CARTEIRA",
}
_DEFAULTS = {
    "name": "Cobranças Exemplo Ltda",
    "cnpj": "11222333000181",
    "bank_code": "001",
    "agencia": "1234",
    "conta": "123456",
    "conta_dv": "7",
    "convenio": "1234567",
    "carteira": "18",
}


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    beneficiary: BeneficiaryConfig
    overdue: OverduePolicy
    # None: boletos without a Pix QR code.
    pix: PixMerchant | None
    fetch_batch: int
    ack_wait_seconds: int
    # CNAB 240 remessas; off (no directory) unless REMESSA_DIR is set.
    remessa: RemessaSettings = RemessaSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        return cls(
            **ServiceSettings.read_common(env, port=50052, database="boleto"),
            beneficiary=(beneficiary := _beneficiary(env)),
            overdue=_overdue(env),
            pix=_pix(env, beneficiary),
            fetch_batch=env_int(env, "BOLETO_FETCH_BATCH", 4, minimum=1),
            ack_wait_seconds=env_int(env, "BOLETO_ACK_WAIT_SECONDS", 10, minimum=1),
            remessa=_remessa(env, beneficiary),
        )

    def masked(self) -> dict[str, object]:
        values = super().masked()
        values["beneficiary"] = (
            f"{self.beneficiary.name} bank {self.beneficiary.bank_code} "
            f"carteira {self.beneficiary.carteira}"
        )
        values["overdue"] = (
            f"due +{self.overdue.days_after_issue}d, fine {self.overdue.fine_percent}%, "
            f"interest {self.overdue.monthly_interest_percent}%/month"
        )
        # A Pix key may be a person's CPF or address: only its last characters are shown.
        values["pix"] = (
            f"key …{self.pix.key[-4:]}, {self.pix.name}, {self.pix.city}"
            + (", dynamic" if self.pix.location_template else "")
            if self.pix
            else "off"
        )
        remessa = self.remessa
        values["remessa"] = (
            f"{remessa.directory}, per {remessa.per.value}, "
            + (
                f"cut at {remessa.cut_at:%H:%M}"
                if remessa.per is CutPer.DAY
                else f"quiet {remessa.quiet_seconds}s"
            )
            + f", at most {remessa.max_titles} titles a file"
            if remessa.enabled
            else "off"
        )
        return values


def _beneficiary(env: Mapping[str, str]) -> BeneficiaryConfig:
    raw = {f: env_str(env, var, _DEFAULTS[f]) for f, var in BENEFICIARY_VARIABLES.items()}
    if raw["bank_code"] != _DEFAULTS["bank_code"]:
        # The example convênio is Banco do Brasil's; other banks' carteiras take none.
        raw["convenio"] = env_str(env, BENEFICIARY_VARIABLES["convenio"], "")
    try:
        return BeneficiaryConfig.from_raw(**raw)
    except InvalidBeneficiaryConfig as exc:
        named = [
            f"{BENEFICIARY_VARIABLES.get(p.field, 'BENEFICIARY_*')}: {p.text}" for p in exc.problems
        ]
        raise ConfigError("; ".join(named)) from None


def _overdue(env: Mapping[str, str]) -> OverduePolicy:
    try:
        return OverduePolicy(
            days_after_issue=env_int(env, "OVERDUE_DAYS_AFTER_ISSUE", 5, minimum=1),
            fine_percent=env_decimal(env, "OVERDUE_FINE_PERCENT", "0"),
            monthly_interest_percent=env_decimal(env, "OVERDUE_MONTHLY_INTEREST_PERCENT", "0"),
        )
    except InvalidOverduePolicy as exc:
        raise ConfigError(f"OVERDUE_*: {exc}") from None


def _pix(env: Mapping[str, str], beneficiary: BeneficiaryConfig) -> PixMerchant | None:
    key = env_str(env, "PIX_KEY", "")
    if not key:
        return None
    city = env_str(env, "PIX_MERCHANT_CITY", "")
    if not city:
        raise ConfigError("PIX_MERCHANT_CITY is required with PIX_KEY (the city in the QR code)")
    template = env_str(env, "PIX_LOCATION_TEMPLATE", "")
    if template and "{txid}" not in template:
        raise ConfigError("PIX_LOCATION_TEMPLATE must contain {txid}")
    merchant = PixMerchant(
        key=key,
        name=env_str(env, "PIX_MERCHANT_NAME", beneficiary.name),
        city=city,
        location_template=template,
    )
    try:
        validate_merchant(merchant)
    except PixError as exc:
        raise ConfigError(f"PIX_*: {exc}") from None
    return merchant


def _remessa(env: Mapping[str, str], beneficiary: BeneficiaryConfig) -> RemessaSettings:
    raw_cut_at = env_str(env, "REMESSA_CUT_AT", "18:00")
    try:
        cut_at = parse_cut_at(raw_cut_at)
    except ValueError as exc:
        raise ConfigError(f"REMESSA_CUT_AT: {exc}") from None
    settings = RemessaSettings(
        directory=env_str(env, "REMESSA_DIR", ""),
        per=CutPer(env_choice(env, "REMESSA_PER", "day", tuple(p.value for p in CutPer))),
        cut_at=cut_at,
        quiet_seconds=env_int(env, "REMESSA_QUIET_SECONDS", 60, minimum=1),
        max_titles=env_int(env, "REMESSA_MAX_TITLES", MAX_TITLES, minimum=1),
        agencia_dv=env_str(env, "BENEFICIARY_AGENCIA_DV", "").upper(),
        variacao_carteira=env_str(env, "BENEFICIARY_VARIACAO_CARTEIRA", ""),
    )
    if settings.max_titles > MAX_TITLES:
        raise ConfigError(
            f"REMESSA_MAX_TITLES: at most {MAX_TITLES}, the titles a CNAB 240 lot can number, "
            f"got {settings.max_titles}"
        )
    if settings.enabled:
        # Refused at start rather than at the first cut, hours later.
        header = RemessaHeader(
            beneficiary,
            1,
            dt.datetime(2000, 1, 1),
            agencia_dv=settings.agencia_dv,
            variacao_carteira=settings.variacao_carteira,
        )
        variables = {
            "agencia_dv": "BENEFICIARY_AGENCIA_DV",
            "variacao_carteira": "BENEFICIARY_VARIACAO_CARTEIRA",
        }
        problems = cnab_bank_for(beneficiary.bank_code).header_problems(header)
        if problems:
            raise ConfigError(
                "; ".join(
                    f"{variables.get(p.field, 'BENEFICIARY_*')}: {p.text} (REMESSA_DIR is set)"
                    for p in problems
                )
            )
    return settings
