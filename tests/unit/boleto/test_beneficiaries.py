"""Several beneficiaries: the BENEFICIARIES_FILE, how an upload's key finds its beneficiary,
and what a wrong file says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from boleto_service.config import Settings
from boleto_service.domain.beneficiaries import (
    Beneficiaries,
    Beneficiary,
    UnknownBeneficiary,
)
from boletos.platform.beneficiaries_file import beneficiary_keys
from boletos.platform.settings import ConfigError
from ingest_service.domain.beneficiary import BeneficiaryRefused, resolve_beneficiary
from tests.support import access
from tests.support.beneficiaries import BB, ITAU

TWO = """
[beneficiaries.fundo-a]
name = "Fundo A de Recebíveis Ltda"
cnpj = "11.222.333/0001-81"
bank_code = "001"
agencia = "1234"
agencia_dv = "3"
conta = "123456"
conta_dv = "X"
convenio = "1234567"
carteira = "17"
variacao_carteira = "019"
pix_key = "fundo-a@example.com"
pix_city = "SAO PAULO"

[beneficiaries.cliente-b]
name = "Cliente B S.A."
cnpj = "11444777000161"
bank_code = "341"
agencia = "0057"
conta = "12345"
conta_dv = "7"
carteira = "109"
first_nosso_numero = "500"
"""


# cliente-b moved to fundo-a's bank account.
SAME_ACCOUNT = (
    TWO.replace('"341"', '"001"')
    .replace('"0057"', '"1234"')
    .replace('"12345"', '"123456"')
    .replace('"109"', '"17"')
    .replace('conta_dv = "7"', 'conta_dv = "X"\nconvenio = "1234567"')
)


def settings_from(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "beneficiaries.toml"
    path.write_text(text, encoding="utf-8")
    return Settings.from_env({**access.minimal_env(), "BENEFICIARIES_FILE": str(path), **env})


def test_a_file_defines_each_beneficiary_with_its_own_account_and_pix(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, TWO)
    a, b = settings.beneficiaries
    assert (a.key, a.config.bank_code, a.config.cnpj, a.agencia_dv) == (
        "fundo-a", "001", "11222333000181", "3"
    )  # fmt: skip
    assert a.pix is not None and a.pix.key == "fundo-a@example.com"
    assert a.pix.name == "Fundo A de Recebíveis Ltda"
    assert (b.key, b.config.bank_code, b.pix) == ("cliente-b", "341", None)
    # Each numbers its nosso números from its own counter, from where the file says.
    assert (a.first_number, b.first_number) == (1, 500)
    # The BENEFICIARY_* variables are not read beside a file.
    assert settings.beneficiaries.keys == ("fundo-a", "cliente-b")
    masked = settings.masked()
    assert "fundo-a: bank 001" in str(masked["beneficiaries"])
    assert "fundo-a@example.com" not in str(masked)


def test_without_a_file_the_variables_define_the_one_default_beneficiary() -> None:
    settings = Settings.from_env(access.minimal_env())
    [only] = settings.beneficiaries
    assert only.key == "default"
    assert settings.beneficiaries.get("") is only
    assert settings.beneficiaries.get("default") is only


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[beneficiaries.a]\nname = 1", "quoted string"),
        ('[beneficiaries.a]\nname = "A"', "missing cnpj, bank_code, agencia, conta"),
        ('[other]\nx = "1"', "only [beneficiaries.KEY] tables"),
        ("not toml at all [", "not valid TOML"),
        ("", "defines no [beneficiaries.KEY] table"),
        (TWO.replace('"109"', '"109"\nsabor = "x"'), "unknown field(s) sabor"),
        (TWO.replace('agencia = "0057"', 'agencia = "57"'), "cliente-b] agencia"),
        (TWO.replace("cliente-b", "Cliente_B"), "must be lower-case"),
        (SAME_ACCOUNT, "same bank, agência and conta"),
        (TWO.replace('"500"', '"0x10"'), "a positive number"),
    ],
)  # fmt: skip
def test_a_wrong_file_is_refused_at_start_saying_where(
    tmp_path: Path, text: str, words: str
) -> None:
    with pytest.raises(ConfigError, match="BENEFICIARIES_FILE") as refused:
        settings_from(tmp_path, text)
    assert words in str(refused.value)


def test_the_default_beneficiary_keeps_the_services_own_counter() -> None:
    env = {**access.minimal_env(), "BENEFICIARY_FIRST_NOSSO_NUMERO": "500"}
    with pytest.raises(ConfigError, match="BENEFICIARY_FIRST_NOSSO_NUMERO: only"):
        Settings.from_env(env)


def test_a_missing_file_is_refused_at_start(tmp_path: Path) -> None:
    env = {**access.minimal_env(), "BENEFICIARIES_FILE": str(tmp_path / "none.toml")}
    with pytest.raises(ConfigError, match="cannot read"):
        Settings.from_env(env)


def test_remessa_settings_are_checked_for_every_beneficiary(tmp_path: Path) -> None:
    # Banco do Brasil needs the carteira's variação to write a remessa.
    text = TWO.replace('variacao_carteira = "019"\n', "")
    with pytest.raises(ConfigError, match=r"\[beneficiaries.fundo-a\] variacao_carteira"):
        settings_from(tmp_path, text, REMESSA_DIR=str(tmp_path / "remessas"))


def test_a_key_finds_its_beneficiary_and_a_wrong_one_says_which_exist() -> None:
    both = Beneficiaries(
        [Beneficiary(key="fundo-a", config=BB), Beneficiary(key="cliente-b", config=ITAU)]
    )
    assert both.get("cliente-b").config is ITAU
    with pytest.raises(UnknownBeneficiary, match="name one of: fundo-a, cliente-b"):
        both.get("")
    with pytest.raises(UnknownBeneficiary, match="no beneficiary 'x'.*known: fundo-a"):
        both.get("x")
    assert both.owning("341", "0057", "12345") is both.get("cliente-b")
    assert both.owning("341", "0057", "99999") is None


def test_ingest_reads_only_the_keys(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text(TWO, encoding="utf-8")
    assert beneficiary_keys({"BENEFICIARIES_FILE": str(path)}) == ("fundo-a", "cliente-b")
    assert beneficiary_keys({}) == ()


@pytest.mark.parametrize(
    ("named", "configured", "expected"),
    [
        ("", (), "default"),
        ("default", (), "default"),
        ("", ("fundo-a",), "fundo-a"),
        ("cliente-b", ("fundo-a", "cliente-b"), "cliente-b"),
    ],
)
def test_an_upload_names_its_beneficiary_or_has_the_only_one(
    named: str, configured: tuple[str, ...], expected: str
) -> None:
    assert resolve_beneficiary(named, configured) == expected


@pytest.mark.parametrize(
    ("named", "configured", "reason"),
    [
        ("", ("fundo-a", "cliente-b"), "BENEFICIARY_REQUIRED"),
        ("fundo-c", ("fundo-a", "cliente-b"), "BENEFICIARY_UNKNOWN"),
        ("fundo-a", (), "BENEFICIARY_UNKNOWN"),
    ],
)
def test_an_upload_naming_none_of_several_or_an_unknown_one_is_refused(
    named: str, configured: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(BeneficiaryRefused) as refused:
        resolve_beneficiary(named, configured)
    assert refused.value.reason == reason


def test_a_beneficiary_may_give_every_debt_a_discount_of_its_own() -> None:
    env = {
        **access.minimal_env(),
        "BENEFICIARY_DISCOUNT_PERCENT": "2.50",
        "BENEFICIARY_DISCOUNT_DAYS_BEFORE_DUE": "5",
    }
    policy = Settings.from_env(env).beneficiaries.first.discount
    assert policy is not None
    # 2.5% of R$ 123,45 is 308.625 centavos: rounded half up, once.
    discount = policy.for_debt(12_345, dt.date(2027, 1, 31))
    assert discount is not None
    assert (discount.cents, discount.until) == (309, dt.date(2027, 1, 26))
    assert policy.for_debt(10, dt.date(2027, 1, 31)) is None  # nothing left to take off


@pytest.mark.parametrize(
    ("percent", "days", "words"),
    [("0", "5", "above 0"), ("100", "5", "below 100"), ("2.555", "5", "two decimals"),
     ("abc", "5", "percentage"), ("2", "-1", "whole days"), ("2", "", "whole days")],
)  # fmt: skip
def test_a_discount_policy_that_makes_no_sense_is_refused_at_start(
    percent: str, days: str, words: str
) -> None:
    env = {
        **access.minimal_env(),
        "BENEFICIARY_DISCOUNT_PERCENT": percent,
        "BENEFICIARY_DISCOUNT_DAYS_BEFORE_DUE": days,
    }
    with pytest.raises(ConfigError, match="BENEFICIARY_DISCOUNT") as refused:
        Settings.from_env(env)
    assert words in str(refused.value)


def test_a_beneficiary_may_have_a_remessa_schedule_of_its_own(tmp_path: Path) -> None:
    text = TWO.replace(
        'first_nosso_numero = "500"',
        'first_nosso_numero = "500"\nremessa_per = "upload"\nremessa_quiet_seconds = "30"',
    )
    settings = settings_from(tmp_path, text, REMESSA_CUT_AT="17:30")
    a, b = settings.beneficiaries
    service = settings.remessa
    assert a.remessa_settings(service) == service
    own = b.remessa_settings(service)
    assert (own.per.value, own.quiet_seconds, own.cut_at) == ("upload", 30, dt.time(17, 30))


@pytest.mark.parametrize(
    ("field", "value"),
    [("remessa_per", "week"), ("remessa_cut_at", "25:00"), ("remessa_quiet_seconds", "0")],
)
def test_a_schedule_that_makes_no_sense_is_refused(tmp_path: Path, field: str, value: str) -> None:
    text = TWO.replace('carteira = "109"', f'carteira = "109"\n{field} = "{value}"')
    with pytest.raises(ConfigError, match=rf"cliente-b\] {field}"):
        settings_from(tmp_path, text)
