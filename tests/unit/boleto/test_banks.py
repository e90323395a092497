from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.banks import BANKS, bank_for
from boleto_service.domain.banks.itau import account_dac
from boleto_service.domain.barcode import build_barcode
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.checkdigits import mod10
from boleto_service.domain.errors import NossoNumeroOutOfRange, UnknownBank
from boleto_service.domain.issuing import issue_boleto
from boleto_service.domain.linha_digitavel import linha_to_barcode

from .test_golden_vectors import BANK_VECTORS, BankVector

CNPJ = "11222333000181"


def _config(vector: BankVector) -> BeneficiaryConfig:
    return BeneficiaryConfig(
        name="Beneficiário de Teste",
        cnpj=CNPJ,
        bank_code=vector.bank_code,
        agencia=vector.agencia,
        conta=vector.conta,
        conta_dv=vector.conta_dv,
        convenio=vector.convenio,
        carteira=vector.carteira,
    )


@pytest.mark.parametrize("vector", BANK_VECTORS, ids=lambda v: v.linha)
def test_published_boleto_is_reproduced(vector: BankVector) -> None:
    # Issued on its due date, so the overdue policy leaves date and amount alone.
    issued = issue_boleto(
        _config(vector), vector.sequence, vector.amount_cents, vector.due_date, vector.due_date
    )
    assert issued.linha_digitavel_formatted == vector.linha
    expected_barcode = vector.barcode or linha_to_barcode(vector.linha)
    assert issued.barcode == expected_barcode
    assert issued.amount_cents == vector.amount_cents
    assert issued.due_date == vector.due_date
    if vector.nosso_numero is not None:
        assert issued.nosso_numero == vector.nosso_numero


def test_campo_livre_of_a_zero_amount_itau_boleto() -> None:
    # brcobranca itau_spec.rb "Gerar boleto", first case: carteira 175, nosso número 12345678,
    # agência 0810, conta 53678, no amount, due 2009-08-14 (factor 4329).
    config = BeneficiaryConfig(
        name="X", cnpj=CNPJ, bank_code="341", agencia="0810", conta="53678", conta_dv="9",
        carteira="175",
    )  # fmt: skip
    campo_livre = config.bank.campo_livre(config, 12345678)
    assert campo_livre == "1751234567840810536789000"
    barcode = build_barcode("341", 4329, 0, campo_livre)
    assert barcode == "34191432900000000001751234567840810536789000"


def test_itau_printed_nosso_numero() -> None:
    # brcobranca itau_spec.rb "Montar nosso_numero_boleto": agência 0607, conta 15255.
    config = BeneficiaryConfig(
        name="X", cnpj=CNPJ, bank_code="341", agencia="0607", conta="15255", conta_dv="0",
        carteira="175",
    )  # fmt: skip
    assert config.bank.nosso_numero(config, 12345678) == "175/12345678-4"


def test_banco_do_brasil_nosso_numero_is_convenio_and_complement() -> None:
    config = _config(BANK_VECTORS[0])
    assert config.bank.nosso_numero(config, 42) == "12387980000000042"
    assert config.bank.campo_livre(config, 42) == "000000" + "1238798" + "0000000042" + "18"


@pytest.mark.parametrize(
    ("bank_code", "sequence", "message"),
    [
        ("001", 0, "1..9999999999"),
        ("001", 10**10, "10 digits"),
        ("341", 10**8, "8 digits"),
        ("341", -5, "1..99999999"),
    ],
)
def test_sequence_outside_the_nosso_numero_field(bank_code: str, sequence: int, message: str):
    vector = next(v for v in BANK_VECTORS if v.bank_code == bank_code)
    config = _config(vector)
    with pytest.raises(NossoNumeroOutOfRange, match=message):
        config.bank.campo_livre(config, sequence)


def test_registry() -> None:
    assert set(BANKS) == {"001", "033", "104", "237", "341", "748", "756"}
    assert bank_for("001").name == "Banco do Brasil"
    assert bank_for("341").code == "341"
    with pytest.raises(UnknownBank, match="422"):
        bank_for("422")


_itau_accounts = st.tuples(
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
    st.sampled_from(["109", "157", "174", "175"]),
)


@given(_itau_accounts, st.integers(1, 99_999_999))
def test_itau_campo_livre_carries_verifying_dacs(account: tuple[str, str, str], seq: int) -> None:
    agencia, conta, carteira = account
    config = BeneficiaryConfig(
        name="X", cnpj=CNPJ, bank_code="341", agencia=agencia, conta=conta,
        conta_dv=str(account_dac(agencia, conta)), carteira=carteira,
    )  # fmt: skip
    livre = config.bank.campo_livre(config, seq)
    assert len(livre) == 25 and livre.isdigit()
    assert livre[0:3] == carteira and int(livre[3:11]) == seq
    assert int(livre[11]) == mod10(agencia + conta + carteira + livre[3:11])
    assert livre[12:16] == agencia and livre[16:21] == conta
    assert int(livre[21]) == mod10(agencia + conta)
    assert livre[22:] == "000"
    assert config.bank.nosso_numero(config, seq) == f"{carteira}/{livre[3:11]}-{livre[11]}"


@given(
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(["17", "18"]),
    st.integers(1, 9_999_999_999),
)
def test_banco_do_brasil_campo_livre_layout(convenio: str, carteira: str, seq: int) -> None:
    config = BeneficiaryConfig(
        name="X", cnpj=CNPJ, bank_code="001", agencia="1234", conta="5678", conta_dv="X",
        convenio=convenio, carteira=carteira,
    )  # fmt: skip
    livre = config.bank.campo_livre(config, seq)
    assert livre == f"000000{convenio}{seq:010d}{carteira}"
    assert config.bank.nosso_numero(config, seq) == livre[6:23]
