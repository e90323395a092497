"""The boleto service's configuration, read from the environment in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from boleto_service.domain.beneficiaries import Beneficiaries, Beneficiary
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.charges import OverduePolicy
from boleto_service.domain.cnab240 import RemessaHeader, cnab_bank_for
from boleto_service.domain.discounts import DiscountPolicy
from boleto_service.domain.errors import InvalidBeneficiaryConfig, InvalidOverduePolicy
from boleto_service.domain.pix import PixError, PixMerchant, validate_merchant
from boleto_service.domain.remessa_policy import (
    MAX_TITLES,
    CutPer,
    RemessaSettings,
    parse_cut_at,
)
from boletos.platform.beneficiaries_file import DEFAULT_KEY, read_beneficiaries_file
from boletos.platform.beneficiaries_file import VARIABLE as BENEFICIARIES_FILE
from boletos.platform.payment_links import LinkKeys, keys_from_env
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
    "codigo_beneficiario": "BENEFICIARY_CODIGO_BENEFICIARIO",
    "posto": "BENEFICIARY_POSTO",
}
# Fields of a beneficiary that are not its bank account, by variable and by file key.
EXTRA_VARIABLES = {
    "agencia_dv": "BENEFICIARY_AGENCIA_DV",
    "variacao_carteira": "BENEFICIARY_VARIACAO_CARTEIRA",
    "pix_key": "PIX_KEY",
    "pix_name": "PIX_MERCHANT_NAME",
    "pix_city": "PIX_MERCHANT_CITY",
    "pix_location_template": "PIX_LOCATION_TEMPLATE",
    "first_nosso_numero": "BENEFICIARY_FIRST_NOSSO_NUMERO",
    "discount_percent": "BENEFICIARY_DISCOUNT_PERCENT",
    "discount_days_before_due": "BENEFICIARY_DISCOUNT_DAYS_BEFORE_DUE",
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
    "codigo_beneficiario": "",
    "posto": "",
}


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    beneficiaries: Beneficiaries
    overdue: OverduePolicy
    fetch_batch: int
    ack_wait_seconds: int
    # CNAB 240 remessas; off (no directory) unless REMESSA_DIR is set.
    remessa: RemessaSettings = RemessaSettings()
    # Checks debtors' payment links (PAYMENT_LINK_KEYS_FILE); None: no payment pages.
    payment_link_keys: LinkKeys | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = process_env() if env is None else env
        return cls(
            **ServiceSettings.read_common(env, port=50052, database="boleto"),
            beneficiaries=(beneficiaries := _beneficiaries(env)),
            overdue=_overdue(env),
            fetch_batch=env_int(env, "BOLETO_FETCH_BATCH", 4, minimum=1),
            ack_wait_seconds=env_int(env, "BOLETO_ACK_WAIT_SECONDS", 10, minimum=1),
            remessa=_remessa(env, beneficiaries),
            payment_link_keys=keys_from_env(env),
        )

    @property
    def beneficiary(self) -> BeneficiaryConfig:
        """The first beneficiary's account (the only one, unless BENEFICIARIES_FILE)."""
        return self.beneficiaries.first.config

    def masked(self) -> dict[str, object]:
        values = super().masked()
        values["beneficiaries"] = "; ".join(
            f"{b.key}: bank {b.config.bank_code} carteira {b.config.carteira}"
            for b in self.beneficiaries
        )
        values["payment_links"] = "on" if self.payment_link_keys else "off"
        values["overdue"] = (
            f"due +{self.overdue.days_after_issue}d, fine {self.overdue.fine_percent}%, "
            f"interest {self.overdue.monthly_interest_percent}%/month"
        )
        # A Pix key may be a person's CPF or address: only its last characters are shown.
        values["pix"] = "; ".join(
            f"{b.key}: key …{b.pix.key[-4:]}, {b.pix.name}, {b.pix.city}"
            + (", dynamic" if b.pix.location_template else "")
            if b.pix
            else f"{b.key}: off"
            for b in self.beneficiaries
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


def _beneficiaries(env: Mapping[str, str]) -> Beneficiaries:
    path = env_str(env, BENEFICIARIES_FILE, "")
    if not path:
        return Beneficiaries.single(_from_variables(env))
    items = [_from_file(key, fields) for key, fields in read_beneficiaries_file(path).items()]
    try:
        return Beneficiaries(items)
    except ValueError as exc:
        raise ConfigError(f"{BENEFICIARIES_FILE}: {exc}") from None


def _from_variables(env: Mapping[str, str]) -> Beneficiary:
    raw = {f: env_str(env, var, _DEFAULTS[f]) for f, var in BENEFICIARY_VARIABLES.items()}
    if raw["bank_code"] != _DEFAULTS["bank_code"]:
        # The example convênio is Banco do Brasil's; other banks' carteiras take none.
        raw["convenio"] = env_str(env, BENEFICIARY_VARIABLES["convenio"], "")
    extra = {f: env_str(env, var, "") for f, var in EXTRA_VARIABLES.items()}
    return _beneficiary(
        DEFAULT_KEY, raw, extra, lambda f: BENEFICIARY_VARIABLES.get(f) or EXTRA_VARIABLES.get(f, f)
    )


def _from_file(key: str, fields: Mapping[str, str]) -> Beneficiary:
    known = set(BENEFICIARY_VARIABLES) | set(EXTRA_VARIABLES) | set(SCHEDULE_FIELDS)
    unknown = sorted(set(fields) - known)
    where = f"{BENEFICIARIES_FILE} [beneficiaries.{key}]"
    if unknown:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    required = [f for f in BENEFICIARY_VARIABLES if f not in _OPTIONAL and f not in fields]
    if required:
        raise ConfigError(f"{where}: missing {', '.join(required)}")
    raw = {f: fields.get(f, "") for f in BENEFICIARY_VARIABLES}
    extra = {f: fields.get(f, "") for f in EXTRA_VARIABLES}
    beneficiary = _beneficiary(key, raw, extra, lambda f: f"{where} {f}")
    return _with_schedule(beneficiary, fields, where)


# A beneficiary's own remessa schedule, in a beneficiaries file only.
SCHEDULE_FIELDS = ("remessa_per", "remessa_cut_at", "remessa_quiet_seconds")


def _with_schedule(beneficiary: Beneficiary, fields: Mapping[str, str], where: str) -> Beneficiary:
    per, cut_at, quiet = (fields.get(f, "") for f in SCHEDULE_FIELDS)
    if per and per not in {p.value for p in CutPer}:
        raise ConfigError(f"{where} remessa_per: day or upload, got {per!r}")
    try:
        at = parse_cut_at(cut_at) if cut_at else None
    except ValueError as exc:
        raise ConfigError(f"{where} remessa_cut_at: {exc}") from None
    if quiet and (not (quiet.isascii() and quiet.isdigit()) or int(quiet) < 1):
        raise ConfigError(f"{where} remessa_quiet_seconds: whole seconds, got {quiet!r}")
    return replace(
        beneficiary,
        remessa_per=CutPer(per) if per else None,
        remessa_cut_at=at,
        remessa_quiet_seconds=int(quiet) if quiet else None,
    )


_OPTIONAL = ("convenio", "codigo_beneficiario", "posto")


def _beneficiary(
    key: str,
    raw: Mapping[str, str],
    extra: Mapping[str, str],
    name_of: Callable[[str], str],
) -> Beneficiary:
    try:
        config = BeneficiaryConfig.from_raw(**raw)
    except InvalidBeneficiaryConfig as exc:
        raise ConfigError(
            "; ".join(f"{name_of(p.field)}: {p.text}" for p in exc.problems)
        ) from None
    return Beneficiary(
        key=key,
        config=config,
        pix=_pix(extra, config, name_of),
        agencia_dv=extra["agencia_dv"].upper(),
        variacao_carteira=extra["variacao_carteira"],
        first_number=_first_number(key, extra["first_nosso_numero"], name_of),
        discount=_discount(extra, name_of),
    )


def _discount(extra: Mapping[str, str], name_of: Callable[[str], str]) -> DiscountPolicy | None:
    percent, days = extra["discount_percent"], extra["discount_days_before_due"]
    if not percent and not days:
        return None
    try:
        value = Decimal(percent)
    except InvalidOperation:
        value = Decimal(-1)
    if not (value.is_finite() and 0 < value < 100 and value == value.quantize(Decimal("0.01"))):
        raise ConfigError(
            f"{name_of('discount_percent')}: a percentage above 0 and below 100 with at most "
            f"two decimals, got {percent!r}"
        )
    if not (days.isascii() and days.isdigit()):
        raise ConfigError(
            f"{name_of('discount_days_before_due')}: whole days (0 for the due date itself), "
            f"got {days!r}"
        )
    return DiscountPolicy(value, int(days))


def _first_number(key: str, raw: str, name_of: Callable[[str], str]) -> int:
    if not raw:
        return 1
    if key == DEFAULT_KEY:
        # The default beneficiary numbers from the service's own sequence, which has been
        # counting since the first boleto: moving it could give a number out twice.
        raise ConfigError(
            f"{name_of('first_nosso_numero')}: only beneficiaries of a BENEFICIARIES_FILE "
            "other than 'default' have a counter of their own"
        )
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ConfigError(f"{name_of('first_nosso_numero')}: a positive number, got {raw!r}")
    return int(raw)


def _overdue(env: Mapping[str, str]) -> OverduePolicy:
    try:
        return OverduePolicy(
            days_after_issue=env_int(env, "OVERDUE_DAYS_AFTER_ISSUE", 5, minimum=1),
            fine_percent=env_decimal(env, "OVERDUE_FINE_PERCENT", "0"),
            monthly_interest_percent=env_decimal(env, "OVERDUE_MONTHLY_INTEREST_PERCENT", "0"),
        )
    except InvalidOverduePolicy as exc:
        raise ConfigError(f"OVERDUE_*: {exc}") from None


def _pix(
    extra: Mapping[str, str], config: BeneficiaryConfig, name_of: Callable[[str], str]
) -> PixMerchant | None:
    key = extra["pix_key"]
    if not key:
        return None
    city = extra["pix_city"]
    if not city:
        raise ConfigError(
            f"{name_of('pix_city')} is required with {name_of('pix_key')} (the city in the QR code)"
        )
    template = extra["pix_location_template"]
    if template and "{txid}" not in template:
        raise ConfigError(f"{name_of('pix_location_template')} must contain {{txid}}")
    merchant = PixMerchant(
        key=key, name=extra["pix_name"] or config.name, city=city, location_template=template
    )
    try:
        validate_merchant(merchant)
    except PixError as exc:
        raise ConfigError(f"{name_of('pix_key')}: {exc}") from None
    return merchant


def _remessa(env: Mapping[str, str], beneficiaries: Beneficiaries) -> RemessaSettings:
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
    )
    if settings.max_titles > MAX_TITLES:
        raise ConfigError(
            f"REMESSA_MAX_TITLES: at most {MAX_TITLES}, the titles a CNAB 240 lot can number, "
            f"got {settings.max_titles}"
        )
    if settings.enabled:
        # Refused at start rather than at the first cut, hours later.
        for beneficiary in beneficiaries:
            _check_remessa_header(beneficiary, len(beneficiaries) > 1)
    return settings


def _check_remessa_header(beneficiary: Beneficiary, from_file: bool) -> None:
    header = RemessaHeader(
        beneficiary.config,
        1,
        dt.datetime(2000, 1, 1),
        agencia_dv=beneficiary.agencia_dv,
        variacao_carteira=beneficiary.variacao_carteira,
    )
    problems = cnab_bank_for(beneficiary.config.bank_code).header_problems(header)
    if not problems:
        return

    def name_of(field: str) -> str:
        if from_file or beneficiary.key != DEFAULT_KEY:
            return f"{BENEFICIARIES_FILE} [beneficiaries.{beneficiary.key}] {field}"
        return EXTRA_VARIABLES.get(field) or BENEFICIARY_VARIABLES.get(field, "BENEFICIARY_*")

    raise ConfigError(
        "; ".join(f"{name_of(p.field)}: {p.text} (REMESSA_DIR is set)" for p in problems)
    )
