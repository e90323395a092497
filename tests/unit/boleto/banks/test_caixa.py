"""Caixa Econômica Federal (104): SIGCB boletos, their check digits, and the CNAB 240 files.

Boleto rules: Caixa's "Especificações Técnicas para Emissão de Boletos - Cobrança Bancária CAIXA -
SIGCB", 67.119 v010, Abril/2020. Files: Caixa's "Leiaute de Arquivo Eletrônico Padrão CNAB 240 -
Cobrança Bancária CAIXA - SIGCB", 67.118 v010, Junho/2018 (in force from 29.06.2018); positions
are 1-based and inclusive, as that manual prints them.

Only the numbers of published boletos and a few lines of published retornos are taken from their
sources, each cited where it is used: test data only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.banks.caixa import Caixa, caixa_dv, campo_livre_for
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.checkdigits import mod11_remainder
from boleto_service.domain.cnab240 import (
    InvalidRemessa,
    Movement,
    Outcome,
    PayerAddress,
    PayerIdKind,
    Reason,
    RemessaHeader,
    RemessaPayer,
    RemessaTitle,
    cnab_bank_for,
    parse_retorno,
    remessa_lines,
)
from boleto_service.domain.cnab240.caixa import Caixa as CaixaCnab
from boleto_service.domain.errors import InvalidBeneficiaryConfig, NossoNumeroOutOfRange
from boleto_service.domain.issuing import issue_boleto
from boleto_service.domain.linha_digitavel import linha_to_barcode
from boletos_cli.bank import (
    BankDay,
    Paid,
    Registered,
    Rejected,
    Result,
    WrittenOff,
    envelope,
    retorno_for,
    simulate,
)
from tests.support.cnab import Field, detail_start

CNPJ = "11222333000181"


def _config(agencia: str = "1234", codigo: str = "123456", **changes: str) -> BeneficiaryConfig:
    fields = {
        "name": "Cobranças São João Ltda",
        "cnpj": CNPJ,
        "bank_code": "104",
        "agencia": agencia,
        "conta": "1234567",  # the conta corrente: required of every beneficiary, unused by Caixa
        "conta_dv": "0",
        "carteira": "14",
        "codigo_beneficiario": codigo,
        **changes,
    }
    return BeneficiaryConfig(**fields)


# (a) Published boletos ------------------------------------------------------------------------


@dataclass(frozen=True)
class CaixaVector:
    source: str
    agencia: str
    codigo_beneficiario: str
    sequence: int
    amount_cents: int
    due_date: date
    barcode: str | None
    linha: str | None
    nosso_numero: str | None
    campo_livre: str | None = None


BOLETO2NET = (
    "BoletoNet/boleto2net at d8e67604edb1345d3829b447f2d67a551e5b8dc4, "
    "Boleto2.Net.Testes/BancoCaixaCarteiraSig14Tests.cs, Caixa_SIG14_BoletoOK"
)
STELLA_SIGCB = (
    "hprange/caelum-stella (a fork of caelum/caelum-stella) at "
    "3585fa89ad79693216ac4f897a3322915045bc1b, stella-boleto/src/test/java/br/com/caelum/stella/"
    "boleto/bancos/CaixaSIGCBTest.java, setUp + geraCodigoDeBarraParaBoletoCaixaSIGCB"
)
BRCOBRANCA = (
    "kivanio/brcobranca at 325e0eae69ad298477b935a441a22c61c7556f31, "
    "spec/brcobranca/boleto/caixa_spec.rb"
)
CAIXA_MANUAL = "Caixa 67.119 v010 (Abril/2020)"


def _boleto2net(
    cents: int, seq: int, due: date, nosso: str, barcode: str, linha: str
) -> CaixaVector:
    # Agência 1234, código do beneficiário 123456 (DV 0); one boleto per general DV 1..9.
    return CaixaVector(BOLETO2NET, "1234", "123456", seq, cents, due, barcode, linha, nosso)


VECTORS: tuple[CaixaVector, ...] = (
    _boleto2net(500_00, 6, date(2017, 1, 5), "14000000000000006-5",
                "10491703000000500001234560000100040000000064",
                "10491.23456 60000.100044 00000.000646 1 70300000050000"),
    _boleto2net(300_00, 4, date(2016, 11, 10), "14000000000000004-9",
                "10492697400000300001234560000100040000000048",
                "10491.23456 60000.100044 00000.000489 2 69740000030000"),
    _boleto2net(409_00, 5, date(2016, 12, 8), "14000000000000005-7",
                "10493700200000409001234560000100040000000056",
                "10491.23456 60000.100044 00000.000562 3 70020000040900"),
    _boleto2net(400_00, 5, date(2016, 12, 8), "14000000000000005-7",
                "10494700200000400001234560000100040000000056",
                "10491.23456 60000.100044 00000.000562 4 70020000040000"),
    _boleto2net(700_00, 8, date(2017, 3, 11), "14000000000000008-1",
                "10495709500000700001234560000100040000000080",
                "10491.23456 60000.100044 00000.000802 5 70950000070000"),
    _boleto2net(600_00, 7, date(2017, 2, 7), "14000000000000007-3",
                "10496706300000600001234560000100040000000072",
                "10491.23456 60000.100044 00000.000729 6 70630000060000"),
    _boleto2net(800_00, 9, date(2017, 3, 31), "14000000000000009-0",
                "10497711500000800001234560000100040000000099",
                "10491.23456 60000.100044 00000.000992 7 71150000080000"),
    _boleto2net(100_00, 2, date(2016, 9, 15), "14000000000000002-2",
                "10498691800000100001234560000100040000000021",
                "10491.23456 60000.100044 00000.000216 8 69180000010000"),
    _boleto2net(200_00, 3, date(2016, 10, 14), "14000000000000003-0",
                "10499694700000200001234560000100040000000030",
                "10491.23456 60000.100044 00000.000307 9 69470000020000"),
    # Código 5507 (005507), nosso número 19, R$ 321,12 due 2006-08-23; only the barcode is
    # published. The source gives the nosso número as 14000000000000019 (no DV): its DV 7 is
    # Caixa's own worked example for this very number (67.119 v010, Anexo IV).
    CaixaVector(STELLA_SIGCB, "1234", "005507", 19, 321_12, date(2006, 8, 23),
                "10491324200000321120055077000100040000000190", None, "14000000000000019-7"),
    # "Gerar o código de barras" and "Montar nosso_numero_boleto": agência 1825, convênio 245274,
    # nosso número 1. The spec issues on the current date, so only the campo livre is fixed;
    # the due date and amount here are any.
    CaixaVector(BRCOBRANCA, "1825", "245274", 1, 10_00, date(2025, 7, 10), None, None,
                "14000000000000001-4", campo_livre="2452740000100040000000017"),
    # The bank's worked example (Anexos I, III and V): código 005507-7, nosso número
    # 14/222333777777777, R$ 321,12 due 2006-08-23 (factor 3242). It prints no agência; any will
    # do, the barcode has none.
    CaixaVector(CAIXA_MANUAL, "0001", "005507", 222333777777777, 321_12, date(2006, 8, 23),
                "10494324200000321120055077222133347777777771",
                "10490.05505 77222.133348 77777.777713 4 32420000032112", None),
)  # fmt: skip


@pytest.mark.parametrize(
    "vector", VECTORS, ids=lambda v: f"{v.source[:12]}-{v.sequence}-{v.amount_cents}"
)
def test_published_boleto_is_reproduced(vector: CaixaVector) -> None:
    config = _config(vector.agencia, vector.codigo_beneficiario)
    # Issued on its due date, so the overdue policy leaves date and amount alone.
    issued = issue_boleto(
        config, vector.sequence, vector.amount_cents, vector.due_date, vector.due_date
    )
    if vector.linha is not None:
        assert issued.linha_digitavel_formatted == vector.linha
        assert linha_to_barcode(vector.linha) == issued.barcode
    if vector.barcode is not None:
        assert issued.barcode == vector.barcode
    if vector.campo_livre is not None:
        assert issued.barcode[19:] == vector.campo_livre
    if vector.nosso_numero is not None:
        assert issued.nosso_numero == vector.nosso_numero
    assert (issued.bank_code, issued.amount_cents) == ("104", vector.amount_cents)


def test_the_boleto2net_set_has_every_general_dv() -> None:
    # Caixa's homologation asks for samples with every general DV 1..9 (67.119 v010, 1.1).
    dvs = sorted(int(v.barcode[4]) for v in VECTORS if v.source == BOLETO2NET and v.barcode)
    assert dvs == list(range(1, 10))


# (b) Check digits on their own -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "dv"),
    [
        # Nosso número, all 17 digits (Anexo IV's example; brcobranca; boleto2net's two DVs of
        # 0, from remainders 1 and 0, which Caixa prints as 0 where the general DV would be 1).
        ("14000000000000019", 7),
        ("14000000000000001", 4),
        ("14000000000000009", 0),
        ("14000000000000003", 0),
        # The same rule read back from the published retornos below.
        ("14000000000000031", 6),
        ("24000000011136997", 9),
        # Código do beneficiário, 6 digits (Anexo VI; boleto2net; brcobranca's
        # "Montar agencia_conta_boleto": 1825/245274-0 and 2030/654321-9).
        ("005507", 7),
        ("123456", 0),
        ("245274", 0),
        ("654321", 9),
        # Campo livre, its first 24 digits (Anexo III: sum 538, remainder 10, DV 1).
        ("005507722213334777777777", 1),
    ],
)
def test_caixa_modulo_11(digits: str, dv: int) -> None:
    assert caixa_dv(digits) == dv


def test_the_two_zero_dvs_come_from_remainders_0_and_1() -> None:
    assert {mod11_remainder("14000000000000009"), mod11_remainder("14000000000000003")} == {0, 1}


def test_campo_livre_interleaves_the_nosso_numero() -> None:
    # Anexo III: código 005507, DV 7, then digits 3-5, constant 1, digits 6-8, constant 4,
    # digits 9-17 of 14222333777777777, and the campo livre's DV.
    assert campo_livre_for("005507", "14222333777777777") == "0055077222133347777777771"


def test_the_campo_livre_dv_may_be_zero_the_general_dv_never() -> None:
    config = _config(codigo="123456")
    sequence = next(s for s in range(1, 200) if config.bank.campo_livre(config, s)[-1] == "0")
    issued = issue_boleto(config, sequence, 100_00, date(2025, 7, 10), date(2025, 7, 10))
    assert issued.barcode[-1] == "0" and issued.barcode[4] != "0"


@pytest.mark.parametrize(("sequence", "message"), [(0, "1..999999999999999"), (10**15, "15")])
def test_sequence_outside_the_15_free_digits(sequence: int, message: str) -> None:
    config = _config()
    with pytest.raises(NossoNumeroOutOfRange, match=message):
        config.bank.nosso_numero(config, sequence)


# (c) Configuration -----------------------------------------------------------------------------


def _problems(**changes: str) -> dict[str, str]:
    with pytest.raises(InvalidBeneficiaryConfig) as raised:
        _config(**changes)
    return {p.field: p.text for p in raised.value.problems}


def test_a_usable_configuration() -> None:
    config = _config("0016", "005507")
    assert config.bank.name == "Caixa Econômica Federal"
    assert config.bank.configuration_problems(config) == []


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"codigo": ""}, "codigo_beneficiario", "needs the código do beneficiário"),
        ({"codigo": "5507"}, "codigo_beneficiario", "must have 6 digits"),
        ({"codigo": "000000"}, "codigo_beneficiario", "000001 to 999999"),
        ({"codigo": "1000000"}, "codigo_beneficiario", "must have 6 digits"),
        # OpenBoleto's 7-digit beneficiary (tests/Banco/CaixaTest.php): a real kind of code, but
        # the CNAB 240 layout here has six positions for it.
        ({"codigo": "1242119"}, "codigo_beneficiario", "has 7 digits; only the 6-digit"),
        ({"carteira": "11"}, "carteira", "must be 14"),
        ({"carteira": "1"}, "carteira", "carteira RG"),
        ({"carteira": "24"}, "carteira", "got '24'"),
        ({"convenio": "245274"}, "convenio", "leave convenio empty"),
        ({"posto": "01"}, "posto", "no posto"),
    ],
)
def test_configuration_problems(changes: dict[str, str], field: str, text: str) -> None:
    problems = _problems(**changes)
    assert list(problems) == [field]
    assert "Caixa" in problems[field] and text in problems[field]


def test_what_the_boleto_prints_for_the_beneficiary() -> None:
    # brcobranca caixa_spec.rb "Montar agencia_conta_boleto": 1825/245274-0, 2030/654321-9.
    bank = Caixa()
    assert bank.agencia_codigo(_config("1825", "245274")) == "1825 / 245274-0"
    assert bank.agencia_codigo(_config("2030", "654321")) == "2030 / 654321-9"
    assert bank.printed_carteira(_config()) == "RG"


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(codigo="", carteira="11", convenio="1", posto="2")
    assert set(problems) == {"codigo_beneficiario", "carteira", "convenio", "posto"}


# (d) Remessa, field by field against 67.118 v010 ----------------------------------------------

CONFIG = _config()
GENERATED = datetime(2025, 7, 1, 13, 45, 0)
HEADER = RemessaHeader(CONFIG, 7, GENERATED, agencia_dv="3")

JOSE = RemessaPayer(
    "José Ação da Conceição",
    PayerIdKind.CPF,
    "52998224725",
    PayerAddress("Rua das Flores, 12", "Centro", "01310100", "São Paulo", "SP"),
)
ACME = RemessaPayer(
    "Empresa Ltda",
    PayerIdKind.CNPJ,
    "11444777000161",
    PayerAddress("Av. Rio Branco, 1", "Centro", "20090003", "Rio de Janeiro", "RJ"),
)


def _title(
    sequence: int,
    cents: int,
    due: date,
    payer: RemessaPayer,
    *,
    fine_percent: Decimal | None = None,
    daily_interest_cents: int = 0,
    movement: Movement = Movement.ENTRY,
) -> RemessaTitle:
    return RemessaTitle(
        nosso_numero=CONFIG.bank.nosso_numero(CONFIG, sequence),
        document_number=str(sequence),
        due_date=due,
        amount_cents=cents,
        issue_date=date(2025, 7, 1),
        payer=payer,
        fine_percent=fine_percent,
        daily_interest_cents=daily_interest_cents,
        movement=movement,
    )


TITLES = [
    _title(
        42, 12345, date(2025, 7, 10), JOSE, fine_percent=Decimal("2.00"), daily_interest_cents=4
    ),
    _title(43, 100000, date(2025, 8, 1), ACME),
]


FILE_HEADER: list[Field] = [
    (1, 3, "01.0 código do banco", "104"),
    (4, 7, "02.0 lote", "0000"),
    (8, 8, "03.0 tipo de registro", "0"),
    (9, 17, "04.0 filler", " " * 9),
    (18, 18, "05.0 tipo de inscrição: CNPJ", "2"),
    (19, 32, "06.0 CNPJ", CNPJ),
    (33, 52, "07.0 uso exclusivo CAIXA", "0" * 20),
    (53, 57, "08.0 agência, one leading zero", "01234"),
    (58, 58, "09.0 DV da agência", "3"),
    (59, 64, "10.0 código do beneficiário", "123456"),
    (65, 72, "11.0 and 12.0 uso exclusivo CAIXA", "0" * 8),
    (73, 102, "13.0 nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
    (103, 132, "14.0 nome do banco", "CAIXA ECONOMICA FEDERAL".ljust(30)),
    (133, 142, "15.0 filler", " " * 10),
    (143, 143, "16.0 código remessa", "1"),
    (144, 151, "17.0 data de geração", "01072025"),
    (152, 157, "18.0 hora de geração", "134500"),
    (158, 163, "19.0 NSA", "000007"),
    (164, 166, "20.0 versão do leiaute do arquivo", "101"),
    (167, 171, "21.0 densidade", "00000"),
    (172, 191, "22.0 uso exclusivo CAIXA", " " * 20),
    (192, 211, "23.0 situação do arquivo: blanks in production (G022)", " " * 20),
    (212, 215, "24.0 versão do aplicativo", " " * 4),
    (216, 240, "25.0 filler", " " * 25),
]
LOT_HEADER: list[Field] = [
    (1, 3, "01.1 código do banco", "104"),
    (4, 7, "02.1 lote", "0001"),
    (8, 8, "03.1 tipo de registro", "1"),
    (9, 9, "04.1 operação: remessa", "R"),
    (10, 11, "05.1 serviço: cobrança registrada", "01"),
    (12, 13, "06.1 filler, zeros", "00"),
    (14, 16, "07.1 versão do leiaute do lote", "060"),
    (17, 17, "08.1 filler", " "),
    (18, 18, "09.1 tipo de inscrição", "2"),
    (19, 33, "10.1 CNPJ", "0" + CNPJ),
    (34, 39, "11.1 código do beneficiário", "123456"),
    (40, 53, "11.1 uso exclusivo CAIXA", "0" * 14),
    (54, 58, "12.1 agência", "01234"),
    (59, 59, "13.1 DV da agência", "3"),
    (60, 65, "14.1 código do beneficiário", "123456"),
    (66, 72, "15.1 código do modelo personalizado", "0" * 7),
    (73, 73, "16.1 uso exclusivo CAIXA", "0"),
    (74, 103, "17.1 nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
    (104, 183, "18.1 and 19.1 mensagens 1 e 2", " " * 80),
    (184, 191, "20.1 número da remessa", "00000007"),
    (192, 199, "21.1 data de gravação", "01072025"),
    (200, 207, "22.1 filler, zeros", "0" * 8),
    (208, 240, "23.1 filler", " " * 33),
]


SEGMENT_P: list[Field] = [
    *detail_start("104", 1, "P"),
    (18, 22, "08.3P agência", "01234"),
    (23, 23, "09.3P DV da agência", "3"),
    (24, 29, "10.3P código do beneficiário", "123456"),
    (30, 39, "11.3P and 12.3P uso exclusivo CAIXA", "0" * 10),
    (40, 40, "13.3P modalidade SINCO: 0 for 17-digit nosso números", "0"),
    (41, 42, "13.3P modalidade SIGCB", "14"),
    (43, 57, "13.3P identificação do título", "000000000000042"),
    (58, 58, "14.3P carteira: cobrança simples", "1"),
    (59, 59, "15.3P cadastramento: registrada", "1"),
    (60, 60, "16.3P tipo de documento: escritural", "2"),
    (61, 61, "17.3P emissão: beneficiário", "2"),
    (62, 62, "18.3P entrega: beneficiário", "0"),
    (63, 73, "19.3P seu número", "42".ljust(11)),
    (74, 77, "19.3P uso exclusivo CAIXA", " " * 4),
    (78, 85, "20.3P vencimento", "10072025"),
    (86, 100, "21.3P valor nominal", "000000000012345"),
    (101, 105, "22.3P agência cobradora", "00000"),
    (106, 106, "23.3P DV", "0"),
    (107, 108, "24.3P espécie: DM", "02"),
    (109, 109, "25.3P aceite", "N"),
    (110, 117, "26.3P emissão", "01072025"),
    (118, 118, "27.3P juros: valor por dia", "1"),
    # C019: a day after the due date.
    (119, 126, "28.3P data dos juros", "11072025"),
    (127, 141, "29.3P juros por dia", "000000000000004"),
    (142, 142, "30.3P desconto 1: sem desconto", "0"),
    (143, 195, "31.3P-34.3P desconto, IOF, abatimento", "0" * 53),
    (196, 220, "35.3P uso da empresa: the seu número", "42".ljust(25)),
    (221, 221, "36.3P protesto: não protestar", "3"),
    (222, 223, "37.3P dias para protesto", "00"),
    (224, 224, "38.3P baixa/devolução: baixar, required with 3 in 221 (C026)", "1"),
    (225, 227, "39.3P dias para baixa", "030"),
    (228, 229, "40.3P moeda: real", "09"),
    (230, 239, "41.3P uso exclusivo CAIXA", "0" * 10),
    (240, 240, "42.3P pagamento parcial: blank, not accepted (C092)", " "),
]
SEGMENT_Q: list[Field] = [
    *detail_start("104", 2, "Q"),
    (18, 18, "08.3Q tipo de inscrição: CPF", "1"),
    (19, 33, "09.3Q CPF", "000052998224725"),
    (34, 73, "10.3Q nome", "JOSE ACAO DA CONCEICAO".ljust(40)),
    (74, 113, "11.3Q endereço", "RUA DAS FLORES, 12".ljust(40)),
    (114, 128, "12.3Q bairro", "CENTRO".ljust(15)),
    (129, 133, "13.3Q CEP", "01310"),
    (134, 136, "14.3Q sufixo do CEP", "100"),
    (137, 151, "15.3Q cidade", "SAO PAULO".ljust(15)),
    (152, 153, "16.3Q UF", "SP"),
    (154, 154, "17.3Q sacador/avalista: none", "0"),
    (155, 169, "18.3Q inscrição do sacador", "0" * 15),
    (170, 209, "19.3Q nome do sacador", " " * 40),
    (210, 212, "20.3Q banco correspondente", "000"),
    (213, 232, "21.3Q nosso número no correspondente", " " * 20),
    (233, 240, "22.3Q filler", " " * 8),
]
SEGMENT_R: list[Field] = [
    *detail_start("104", 3, "R"),
    (18, 65, "08.3R-13.3R descontos 2 e 3", "0" * 48),
    (66, 66, "14.3R multa: percentual", "2"),
    (67, 74, "15.3R data da multa", "11072025"),
    (75, 89, "16.3R multa 2,00 %", "000000000000200"),
    (90, 99, "17.3R informação ao pagador", " " * 10),
    (100, 179, "18.3R and 19.3R mensagens 3 e 4", " " * 80),
    (180, 199, "20.3R uso exclusivo CAIXA", " " * 20),
    (200, 215, "20.3R uso exclusivo CAIXA", " " * 16),
    (216, 216, "20.3R uso exclusivo CAIXA", " "),
    (217, 228, "20.3R uso exclusivo CAIXA", " " * 12),
    (229, 230, "20.3R and 21.3R", "  "),
    (231, 231, "21.3R filler", " "),
    (232, 240, "21.3R filler", " " * 9),
]
LOT_TRAILER: list[Field] = [
    (1, 3, "01.5 código do banco", "104"),
    (4, 7, "02.5 lote", "0001"),
    (8, 8, "03.5 tipo de registro", "5"),
    (9, 17, "04.5 filler", " " * 9),
    # Lot header, P Q R, P Q, lot trailer.
    (18, 23, "05.5 registros no lote", "000007"),
    (24, 29, "06.5 títulos em cobrança simples", "000002"),
    (30, 46, "07.5 valor total em cobrança simples", "00000000000112345"),
    (47, 92, "08.5-11.5 caucionada e descontada", "0" * 46),
    (93, 115, "12.5 filler", " " * 23),
    (116, 123, "12.5 filler", " " * 8),
    (124, 240, "13.5 filler", " " * 117),
]
FILE_TRAILER: list[Field] = [
    (1, 3, "01.9 código do banco", "104"),
    (4, 7, "02.9 lote", "9999"),
    (8, 8, "03.9 tipo de registro", "9"),
    (9, 17, "04.9 filler", " " * 9),
    (18, 23, "05.9 lotes", "000001"),
    (24, 29, "06.9 registros: header, lot of 7, trailer", "000009"),
    (30, 35, "07.9 filler", " " * 6),
    (36, 240, "08.9 filler", " " * 205),
]
RECORDS: dict[int, list[Field]] = {
    0: FILE_HEADER,
    1: LOT_HEADER,
    2: SEGMENT_P,
    3: SEGMENT_Q,
    4: SEGMENT_R,
    7: LOT_TRAILER,
    8: FILE_TRAILER,
}


# Blank fillers at Caixa where FEBRABAN has numeric fields, zeros for the other banks: the
# débito automático of segment R, the cobrança descontada of the lot trailer and the contas of
# the file trailer.
FEBRABAN_ZEROS = {(4, 200, 215), (4, 217, 228), (4, 231, 231), (7, 93, 115), (8, 30, 35)}


def _field(record: int, start: int) -> Field:
    return next(f for f in RECORDS[record] if f[0] == start)


@pytest.mark.parametrize("record", sorted(RECORDS))
def test_remessa_record_field_by_field(record: int) -> None:
    fields = RECORDS[record]
    # Every position of the record is in the table, once.
    assert fields[0][0] == 1 and fields[-1][1] == 240
    assert all(a[1] + 1 == b[0] for a, b in zip(fields, fields[1:], strict=False))
    line = remessa_lines(HEADER, TITLES)[record]
    assert len(line) == 240
    for start, end, name, expected in fields:
        assert len(expected) == end - start + 1, name
        assert line[start - 1 : end] == expected, f"{start}-{end} {name}"


@pytest.mark.parametrize(("record", "start", "end"), sorted(FEBRABAN_ZEROS))
def test_fillers_caixa_leaves_blank(record: int, start: int, end: int) -> None:
    expected = _field(record, start)[3]
    assert remessa_lines(HEADER, TITLES)[record][start - 1 : end] == expected


def test_second_title_has_no_fine_nor_interest() -> None:
    lines = remessa_lines(HEADER, TITLES)
    assert [line[13] for line in lines[2:7]] == ["P", "Q", "R", "P", "Q"]
    p = lines[5]
    assert p[8:13] == "00004" and p[40:57] == "14000000000000043"
    assert p[62:73] == "43".ljust(11)
    assert (p[117], p[118:126], p[126:141]) == ("3", "0" * 8, "0" * 15)
    assert lines[6][17:33] == "2011444777000161"


@pytest.mark.parametrize(
    ("movement", "code"),
    [(Movement.WRITE_OFF, "02"), (Movement.REBATE, "04"), (Movement.DUE_DATE, "06")],
)
def test_instruction_movements_use_caixa_codes(movement: Movement, code: str) -> None:
    title = _title(42, 12345, date(2025, 7, 10), JOSE, movement=movement)
    rebate = 2000 if movement is Movement.REBATE else 0
    lines = remessa_lines(HEADER, [title._replace(rebate_cents=rebate)])
    assert [(line[13], line[15:17]) for line in lines[2:4]] == [("P", code), ("Q", code)]
    assert lines[2][180:195] == f"{rebate:015d}"  # 34.3P valor do abatimento


def test_a_test_file_says_so_in_the_file_header() -> None:
    # G022: the situação do arquivo, blank in production.
    header = RemessaHeader(CONFIG, 7, GENERATED, agencia_dv="3", test_file=True)
    assert remessa_lines(header, TITLES)[0][191:211] == "REMESSA-TESTE".ljust(20)


@pytest.mark.parametrize("agencia_dv", ["", "X", "12"])
def test_the_agencia_dv_is_required(agencia_dv: str) -> None:
    header = RemessaHeader(CONFIG, 7, GENERATED, agencia_dv=agencia_dv)
    with pytest.raises(InvalidRemessa, match="Caixa remessas need the agência's DV"):
        remessa_lines(header, TITLES)


@pytest.mark.parametrize(
    ("nosso_numero", "text"),
    [
        ("14000000000000042-9", "has DV 9, expected 1"),
        ("14000000000000042", "is printed 14NNNNNNNNNNNNNNN-D"),
        ("11000000000000042-5", "is printed 14NNNNNNNNNNNNNNN-D"),
        ("109/00000042-8", "is printed 14NNNNNNNNNNNNNNN-D"),
    ],
)
def test_nosso_numero_problems(nosso_numero: str, text: str) -> None:
    assert CONFIG.bank.nosso_numero(CONFIG, 42) == "14000000000000042-1"
    problem = cnab_bank_for("104").nosso_numero_problem(HEADER, nosso_numero)
    assert problem is not None and text in problem


# (e) Retorno ----------------------------------------------------------------------------------

CAIXA_CNAB = CaixaCnab()


def _round_trip_remessa() -> list[str]:
    amounts = (12345, 50000, 700, 2500, 9900)
    due = date(2025, 7, 10)
    return remessa_lines(HEADER, [_title(42 + i, c, due, JOSE) for i, c in enumerate(amounts)])


_OUTCOMES: dict[int, Result] = {
    0: Paid(12400, date(2025, 7, 11), date(2025, 7, 14), fee_cents=250, interest_cents=55),
    1: Rejected(("08", "VE", "48")),
    2: Registered(fee_cents=180),
    3: WrittenOff(date(2025, 8, 9), fee_cents=90),
    4: Registered(),
}


def test_round_trip_remessa_simulated_retorno() -> None:
    lines = retorno_for(_round_trip_remessa(), _OUTCOMES)
    # The simulated bank confirms no due-date change: the last title's 02 becomes Caixa's 14.
    lines[10], lines[11] = (line[:15] + "14" + line[17:] for line in lines[10:12])
    result = parse_retorno("\r\n".join(lines) + "\r\n")
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == ("104", 7, date(2025, 7, 1))
    summary = [
        (o.line_number, o.nosso_numero, o.document_number, o.code, o.outcome, o.reasons)
        for o in result.occurrences
    ]
    assert summary == [
        (3, "14000000000000042-1", "42", "06", Outcome.PAID, ()),
        (5, "14000000000000043-0", "43", "03", Outcome.REJECTED, (
            Reason("08", "Nosso número inválido"),
            Reason("VE", "Número do documento de cobrança inválido"),
            Reason("48", "CEP inválido"),
        )),
        (7, "14000000000000044-8", "44", "02", Outcome.REGISTERED, ()),
        (9, "14000000000000045-6", "45", "09", Outcome.WRITTEN_OFF, ()),
        (11, "14000000000000046-4", "46", "14", Outcome.DUE_DATE_CHANGED, ()),
    ]  # fmt: skip
    paid, rejected, registered, written_off, redated = result.occurrences
    assert (paid.face_value_cents, paid.paid_cents, paid.credited_cents) == (12345, 12400, 12150)
    assert (paid.fee_cents, paid.interest_cents) == (250, 55)
    assert (paid.occurrence_date, paid.credit_date) == (date(2025, 7, 11), date(2025, 7, 14))
    assert (rejected.description, rejected.face_value_cents) == ("Entrada rejeitada", 50000)
    assert (registered.fee_cents, registered.description) == (180, "Entrada confirmada")
    assert (written_off.occurrence_date, written_off.fee_cents) == (date(2025, 8, 9), 90)
    assert redated.description == "Alteração de vencimento recebida"
    issued = {CONFIG.bank.nosso_numero(CONFIG, s) for s in range(42, 47)}
    assert {o.nosso_numero for o in result.occurrences} == issued


def test_the_simulated_bank_returns_caixa_nosso_numeros_unaided() -> None:
    result = parse_retorno(retorno_for(_round_trip_remessa(), {0: Registered()}))
    assert [o.nosso_numero for o in result.occurrences] == ["14000000000000042-1"]


def test_simulated_segment_t_moves_the_nosso_numero_left_of_its_dv() -> None:
    # 67.118 v010, 3.6.3: the código do beneficiário at 24-29, the nosso número at 40-56 and
    # its DV at 57, where segment P has it at 41-57 without the DV.
    remessa = _round_trip_remessa()
    t = retorno_for(remessa, {0: Registered()})[2]
    assert remessa[2][40:57] == "14000000000000042"
    assert (t[23:29], t[39:56], t[56]) == ("123456", "14000000000000042", "1")


def test_a_simulated_day_reports_a_title_no_remessa_had() -> None:
    text = "".join(line + "\r\n" for line in _round_trip_remessa())
    day = BankDay(paid={}, rejected={}, unknown=["14000000000000099-5"], register=False)
    (stranger,) = parse_retorno(simulate(text, day)).occurrences
    assert (stranger.nosso_numero, stranger.outcome) == ("14000000000000099-5", Outcome.PAID)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("02", Outcome.REGISTERED),
        ("03", Outcome.REJECTED),
        ("06", Outcome.PAID),
        ("46", Outcome.PAID),
        ("09", Outcome.WRITTEN_OFF),
        ("25", Outcome.WRITTEN_OFF),
        ("12", Outcome.REBATE_GRANTED),
        ("14", Outcome.DUE_DATE_CHANGED),
        ("26", Outcome.INSTRUCTION_REJECTED),
        ("30", Outcome.INSTRUCTION_REJECTED),
        ("28", Outcome.OTHER),
        ("44", Outcome.OTHER),
        ("47", Outcome.OTHER),
        ("99", Outcome.OTHER),
    ],
)
def test_occurrence_outcomes(code: str, outcome: Outcome) -> None:
    assert Outcome[CAIXA_CNAB.outcome_name(code)] is outcome


def test_an_unknown_occurrence_is_named_by_its_code() -> None:
    assert CAIXA_CNAB.describe("99") == "Ocorrência 99"
    assert not CAIXA_CNAB.is_rejection("06") and CAIXA_CNAB.reason_text("ZZ") == ""


# Lines 3-6 of samples/RETORNOCEF091116.ret in openboleto/OpenCnabPHP at
# 65b972d09dcba021f5cbe53ff12421dacf26015c, a Caixa SIGCB retorno of 2016-11-08: a registered
# title (modalidade 14) paid, then a tarifa line about no title. Test data only.
OPENCNABPHP_PAIRS = [
    (
        "1040001300001T 060000003638410000000   1400000000000003161               1111201"
        "6000000000000800341014640                         090000000000000000            "
        "                                      000000000000590040101                     "
    ),
    (
        "1040001300002U 06000000000000000000000000000000000000000000000000000000000000000"
        "00000000080000000000000080000000000000000000000000000000008112016091120160000091"
        "1201600000000000000000000000000000000000000000000000000000000000000000000       "
    ),
    (
        "1040001300003T 280000003638410000000                     0               0000000"
        "0000000000000000000000000                         000000000000000000            "
        "                                      0000000000000000000000000                 "
    ),
    (
        "1040001300004U 28000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000008112016000000000000081"
        "12016000000000000000                              000                           "
    ),
]
# Lines 3-6 of tests/Retorno/files/cnab240/caixa.ret in eduardokum/laravel-boleto at
# 0081d0958f6257c39d4594ce2ca466d725cd5b5c: two paid titles of the retired unregistered
# modalidade 24, printed by the beneficiary. Test data only.
LARAVEL_PAIRS = [
    (
        "1040001300001T 060000000432100000000   24000000011136997910000000000000000201201"
        "4000000000008000000010860000000000000000          090000000000000000            "
        "                                      000000000000125020101                     "
    ),
    (
        "1040001300002U 06000000000000000000000000000000000000000000000000000000000000000"
        "00000000800000000000000800000000000000000000000000000000006012014070120140000070"
        "1201400000000000000000000000000000000000000000000000000000000000000000000       "
    ),
    (
        "1040001300003T 060000000432100000000   24000000011138197910000000000000000501201"
        "4000000000008000000033170000000000000000          090000000000000000            "
        "                                      000000000000125020101                     "
    ),
    (
        "1040001300004U 06000000000000000000000000000000000000000000000000000000000000000"
        "00000000800000000000000800000000000000000000000000000000006012014070120140000070"
        "1201400000000000000000000000000000000000000000000000000000000000000000000       "
    ),
]


def test_opencnabphp_caixa_sample() -> None:
    result = parse_retorno(envelope(remessa_lines(HEADER, TITLES), OPENCNABPHP_PAIRS))
    assert (result.unmatched, result.errors) == ((), ())
    paid, fee = result.occurrences
    assert (paid.nosso_numero, paid.code, paid.outcome) == (
        "14000000000000031-6", "06", Outcome.PAID
    )  # fmt: skip
    assert (paid.due_date, paid.face_value_cents, paid.fee_cents) == (date(2016, 11, 11), 800, 590)
    assert (paid.paid_cents, paid.credited_cents) == (800, 800)
    assert (paid.occurrence_date, paid.credit_date) == (date(2016, 11, 8), date(2016, 11, 9))
    # A liquidação's motivos are how it was paid (C047 part C: 04 compensação eletrônica, then
    # forma and float), not rejection reasons: no text.
    assert paid.reasons == (Reason("04", ""), Reason("01", ""), Reason("01", ""))
    assert (fee.nosso_numero, fee.outcome, fee.description) == (
        "", Outcome.OTHER, "Débito de tarifas/custas"
    )  # fmt: skip


def test_laravel_boleto_caixa_sample() -> None:
    result = parse_retorno(envelope(remessa_lines(HEADER, TITLES), LARAVEL_PAIRS))
    assert (result.unmatched, result.errors) == ((), ())
    assert [
        (o.nosso_numero, o.outcome, o.due_date, o.face_value_cents, o.fee_cents, o.paid_cents)
        for o in result.occurrences
    ] == [
        ("24000000011136997-9", Outcome.PAID, date(2014, 1, 2), 8000, 125, 8000),
        ("24000000011138197-9", Outcome.PAID, date(2014, 1, 5), 8000, 125, 8000),
    ]
    for occurrence in result.occurrences:
        assert occurrence.reasons == (Reason("02", ""), Reason("01", ""), Reason("01", ""))
        assert (occurrence.occurrence_date, occurrence.credit_date) == (
            date(2014, 1, 6), date(2014, 1, 7)
        )  # fmt: skip


def test_the_dv_printed_at_57_agrees_with_the_computed_one() -> None:
    for line in (OPENCNABPHP_PAIRS[0], LARAVEL_PAIRS[0], LARAVEL_PAIRS[2]):
        assert CAIXA_CNAB.retorno_nosso_numero(line)[-1] == line[56]


# (f) Properties ------------------------------------------------------------------------------

_codigos = st.integers(1, 999_999).map(lambda n: f"{n:06d}")


@given(_codigos, st.integers(1, 10**15 - 1))
def test_campo_livre_round_trips_and_its_dvs_verify(codigo: str, sequence: int) -> None:
    config = _config(codigo=codigo)
    issued = issue_boleto(config, sequence, 123_45, date(2025, 7, 10), date(2025, 7, 10))
    livre = linha_to_barcode(issued.linha_digitavel)[19:]
    assert livre == issued.barcode[19:] == config.bank.campo_livre(config, sequence)
    nosso, dv = issued.nosso_numero.split("-")
    assert nosso == f"14{sequence:015d}" and int(dv) == caixa_dv(nosso)
    assert livre[:6] == codigo and int(livre[6]) == caixa_dv(codigo)
    assert (livre[7:10], livre[10], livre[11:14], livre[14], livre[15:24]) == (
        nosso[2:5], "1", nosso[5:8], "4", nosso[8:17]
    )  # fmt: skip
    assert int(livre[24]) == caixa_dv(livre[:24])
