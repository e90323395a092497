"""Sicredi (748): published boletos, check digits, configuration, CNAB 240 remessa and retorno.

The layout is the "Manual CNAB 240 Sicredi" of Banco Cooperativo Sicredi, Versão 1.4,
Agosto/2019: nosso número in its sections 3.3-3.4, campo livre in 7.3.1-7.3.2, the remessa and
retorno records in chapter 6 (file layout 081, lot layout 040). Positions below are 1-based and
inclusive, as that manual prints them. Only numbers are taken from the sources cited; the
product's sequence is the nosso número's eight digits AABNNNNN.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.banks.sicredi import nosso_numero_dv, sicredi_dv
from boleto_service.domain.barcode import parse_barcode
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.boleto import Boleto, Payer
from boleto_service.domain.cnab240 import (
    InvalidRemessa,
    Movement,
    Occurrence,
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
    remessa_text,
    title_from_boleto,
)
from boleto_service.domain.errors import InvalidBeneficiaryConfig, NossoNumeroOutOfRange
from boleto_service.domain.issuing import issue_boleto
from boleto_service.domain.linha_digitavel import linha_to_barcode
from boletos_cli.bank import (
    BankDay,
    Paid,
    Registered,
    Rejected,
    WrittenOff,
    envelope,
    retorno_for,
    simulate,
)
from tests.support.cnab import Field, assert_fields, detail_start, with_code

CNPJ = "11222333000181"


def _config(
    cooperativa: str = "0165",
    posto: str = "02",
    codigo: str = "00623",
    **changes: str,
) -> BeneficiaryConfig:
    # Conta corrente 45981-3 is the manual's own example of a conta and its DV.
    fields = {
        "name": "Cobranças São João Ltda", "cnpj": CNPJ, "bank_code": "748",
        "agencia": cooperativa, "conta": "45981", "conta_dv": "3", "carteira": "1",
        "posto": posto, "codigo_beneficiario": codigo,
    }  # fmt: skip
    fields.update(changes)
    return BeneficiaryConfig.from_raw(**fields)


# --- (a) published boletos ---------------------------------------------------------------------

MANUAL = "Manual CNAB 240 Sicredi, Versão 1.4, Agosto/2019"
BRCOBRANCA = "kivanio/brcobranca, spec/brcobranca/boleto/sicredi_spec.rb"
PYTHON_BOLETO = "Trust-Code/python-boleto, tests/test_banco_sicredi.py"
BR_BOLETO = "Brunomm/br_boleto, test/br_boleto/boleto/sicredi_test.rb"
AXCTG3 = (
    "capanizza/axctg3, src/test/java/br/com/axialsoftware/axctg3/service/financeiro/"
    "SicrediCnab400HandlerTest.java"
)
BOLETO2NET = "BoletoNet/boleto2net, Boleto2.Net.Testes/BancoSicrediCarteira1Tests.cs"


@dataclass(frozen=True)
class Vector:
    source: str
    cooperativa: str
    posto: str
    codigo: str
    sequence: int  # the published nosso número without its DV: AABNNNNN
    amount_cents: int
    due_date: date
    linha: str
    barcode: str | None  # None where the source published only the linha digitável
    nosso_numero: str | None  # printed form, where the source published it
    campo_livre: str | None = None  # where the source published it on its own


def _brcobranca(sequence: int, cents: int, due: date, linha: str, campo_livre: str) -> Vector:
    # valid_attributes: agência 0710, posto 65, convênio (código do beneficiário) 129, byte 2,
    # data_processamento 2016-08-22 (the year 16).
    return Vector(
        BRCOBRANCA, "0710", "65", "00129", sequence, cents, due, linha, None, None, campo_livre
    )


def _boleto2net(sequence: int, cents: int, due: date, nosso: str, bar: str, linha: str) -> Vector:
    # Agência 0156, OperacaoConta (posto) 05, cedente (código do beneficiário) 85305.
    return Vector(BOLETO2NET, "0156", "05", "85305", sequence, cents, due, linha, bar, nosso)


VECTORS = (
    # The manual's own example (3.4, 7.3.2 and 7.4.3): cooperativa 0165, posto 02, beneficiário
    # 00623, nosso número 07/200003-1, due 2007-12-20 (factor 3726), R$ 150,35.
    Vector(
        MANUAL, "0165", "02", "00623", 7200003, 150_35, date(2007, 12, 20),
        "74891.10721 00003.101656 02006.231084 1 37260000015035", None, "07/200003-1",
        "1107200003101650200623108",
    ),
    # 'carteira número 1', cases 1 to 6; case 1 is also 'Montar nosso_numero_boleto' (16/208879-3).
    Vector(
        BRCOBRANCA, "0710", "65", "00129", 16208879, 195_57, date(2016, 8, 22),
        "74891.11620 08879.307109 65001.291015 1 68940000019557", None, "16/208879-3",
        "1116208879307106500129101",
    ),
    _brcobranca(16208902, 700_00, date(2016, 7, 25),
                "74891.11620 08902.107104 65001.291007 3 68660000070000",
                "1116208902107106500129100"),
    _brcobranca(16208896, 700_00, date(2016, 7, 25),
                "74891.11620 08896.307108 65001.291072 1 68660000070000",
                "1116208896307106500129107"),
    _brcobranca(16208899, 700_00, date(2016, 7, 25),
                "74891.11620 08899.807104 65001.291031 6 68660000070000",
                "1116208899807106500129103"),
    _brcobranca(16208878, 195_58, date(2016, 7, 25),
                "74891.11620 08878.507105 65001.291064 1 68660000019558",
                "1116208878507106500129106"),
    _brcobranca(16209048, 222_00, date(2016, 8, 26),
                "74891.11620 09048.807102 65001.291031 8 68980000022200",
                "1116209048807106500129103"),
    # setUp + test_codigo_de_barras / test_linha_digitavel / test_dv_nosso_numero (DV 9):
    # agência 0434, posto 08, conta_cedente (código do beneficiário) 36699, nosso número
    # 18324121, R$ 90,75 due 2018-01-25.
    Vector(
        PYTHON_BOLETO, "0434", "08", "36699", 18324121, 90_75, date(2018, 1, 25),
        "74891.11836 24121.904346 08366.991068 1 74150000009075",
        "74891741500000090751118324121904340836699106", "18/324121-9",
    ),
    # '#codigo_de_barras': agência 3069, posto 66, codigo_cedente 82819, byte 2, documento
    # 10010 dated 2016-02-17, R$ 93.015,78 due 2020-02-17; then 'codigo de barras de um boleto
    # de exemplo', documento 15679, R$ 408,50 due 2016-09-01.
    Vector(
        BR_BOLETO, "3069", "66", "82819", 16210010, 93015_78, date(2020, 2, 17),
        "74891.11620 10010.030699 66828.191081 7 81680009301578",
        "74897816800093015781116210010030696682819108", None,
    ),
    Vector(
        BR_BOLETO, "3069", "66", "82819", 16215679, 408_50, date(2016, 9, 1),
        "74891.11620 15679.230696 66828.191065 2 69040000040850",
        "74892690400000408501116215679230696682819106", None,
    ),
    # test_montarCodigoBarras_confereContraBoletoRealDaRadio_000191 and _000193 (with
    # test_formatarNossoNumero): printed boletos of cooperativa 0738, posto 33, cedente 59622,
    # due 2026-03-10, after the factor's 2025 restart (1381).
    Vector(
        AXCTG3, "0738", "33", "59622", 26200045, 1200_00, date(2026, 3, 10),
        "74891.12628 00045.807385 33596.221003 9 13810000120000",
        "74899138100001200001126200045807383359622100", "26/200045-8",
    ),
    Vector(
        AXCTG3, "0738", "33", "59622", 26200002, 550_00, date(2026, 3, 10),
        "74891.12628 00002.407385 33596.221003 1 13810000055000",
        "74891138100000550001126200002407383359622100", "26/200002-4",
    ),
    # Sicredi_1_01_BoletoOK, three of its TestCase rows (commented out there, as their year
    # follows the day the test runs; the numbers are those of 2019).
    _boleto2net(19200004, 500_00, date(2015, 1, 4), "19/200004-8",
                "74894629800000500001119200004801560585305103",
                "74891.11927 00004.801569 05853.051034 4 62980000050000"),
    _boleto2net(19200010, 800_00, date(2019, 4, 25), "19/200010-2",
                "74893787000000800001119200010201560585305102",
                "74891.11927 00010.201564 05853.051026 3 78700000080000"),
    _boleto2net(19200005, 603_56, date(2019, 5, 30), "19/200005-6",
                "74896790500000603561119200005601560585305109",
                "74891.11927 00005.601562 05853.051091 6 79050000060356"),
)  # fmt: skip


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.linha)
def test_published_boleto_is_reproduced(vector: Vector) -> None:
    config = _config(vector.cooperativa, vector.posto, vector.codigo)
    # Issued on its due date, so the overdue policy leaves date and amount alone.
    issued = issue_boleto(
        config, vector.sequence, vector.amount_cents, vector.due_date, vector.due_date
    )
    assert issued.linha_digitavel_formatted == vector.linha
    assert issued.barcode == (vector.barcode or linha_to_barcode(vector.linha))
    assert issued.amount_cents == vector.amount_cents
    if vector.nosso_numero is not None:
        assert issued.nosso_numero == vector.nosso_numero
    if vector.campo_livre is not None:
        assert parse_barcode(issued.barcode).campo_livre == vector.campo_livre


def test_vectors_come_from_several_independent_sources() -> None:
    assert len({v.source for v in VECTORS}) >= 5


# --- (b) check digits --------------------------------------------------------------------------


def test_nosso_numero_dv_of_the_manuals_example() -> None:
    # 3.4: cooperativa 0165, posto 02, beneficiário 00623, year 07, byte 2, number 00003.
    assert nosso_numero_dv("0165", "02", "00623", "07200003") == 1
    # brcobranca 'Montar nosso_numero_boleto': 0710, 65, 00129, 16208879 -> 3.
    assert nosso_numero_dv("0710", "65", "00129", "16208879") == 3


def test_campo_livre_dv_of_the_manuals_example() -> None:
    # 7.3.2: the 24 digits weigh 223; 223 mod 11 is 3 and the DV is 11 - 3 = 8.
    assert sicredi_dv("110720000310165020062310") == 8


@pytest.mark.parametrize(("digits", "remainder"), [("0", 0), ("6", 1), ("11", 5)])
def test_remainders_0_and_1_give_dv_0(digits: str, remainder: int) -> None:
    assert _reference_remainder(digits) == remainder
    assert sicredi_dv(digits) == (0 if remainder < 2 else 11 - remainder)


def test_published_dvs_of_0_follow_the_manual_not_the_barcode_rule() -> None:
    # The barcode's general DV would print remainders 0 and 1 as 1; Sicredi's own DVs print 0.
    # brcobranca case 2 ends its campo livre in 0, br_boleto's nosso número 16/210010-0.
    assert _reference_remainder("111620890210710650012910") in (0, 1)
    assert sicredi_dv("111620890210710650012910") == 0
    assert _reference_remainder("30696682819" + "16210010") in (0, 1)
    assert nosso_numero_dv("3069", "66", "82819", "16210010") == 0


def _reference_remainder(digits: str) -> int:
    # Independent of the implementation: weights 2..9 cycling from the right.
    weights = [2 + i % 8 for i in range(len(digits))]
    return sum(int(d) * w for d, w in zip(reversed(digits), weights, strict=True)) % 11


def _reference_dv(digits: str) -> int:
    remainder = _reference_remainder(digits)
    return 0 if remainder in (0, 1) else 11 - remainder


# --- (c) configuration -------------------------------------------------------------------------


def _problems(**changes: str) -> dict[str, str]:
    with pytest.raises(InvalidBeneficiaryConfig) as caught:
        _config(**changes)
    return {p.field: p.text for p in caught.value.problems}


def test_a_complete_configuration_is_accepted() -> None:
    config = _config()
    assert config.bank.configuration_problems(config) == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"carteira": "3"}, "carteira", "carteira must be 1"),
        ({"posto": ""}, "posto", "posto of the cooperativa must have 2 digits"),
        ({"posto": "2"}, "posto", "pad with a leading zero"),
        ({"codigo": ""}, "codigo_beneficiario", "código do beneficiário must have 5 digits"),
        ({"codigo": "623"}, "codigo_beneficiario", "got '623'"),
        ({"codigo": "123456"}, "codigo_beneficiario", "must have 5 digits"),
        ({"conta_dv": "X"}, "conta_dv", "conta corrente DV must be one digit"),
        ({"convenio": "1234567"}, "convenio", "Sicredi has no convênio"),
    ],
)
def test_each_configuration_problem_names_sicredis_term(
    changes: dict[str, str], field: str, words: str
) -> None:
    problems = _problems(**changes)
    assert list(problems) == [field]
    assert words in problems[field]
    assert problems[field].startswith("Sicredi")


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(carteira="2", posto="", codigo="", convenio="9")
    assert set(problems) == {"carteira", "posto", "codigo_beneficiario", "convenio"}


@pytest.mark.parametrize(
    ("sequence", "words"),
    [
        (1, "byte de geração must be 2 to 9; 1 gives 0"),
        (25100000, "25100000 gives 1"),
        (0, "1..99999999"),
        (100_000_000, "1..99999999"),
    ],
)
def test_sequences_without_a_beneficiary_byte_are_refused(sequence: int, words: str) -> None:
    config = _config()
    with pytest.raises(NossoNumeroOutOfRange, match=words):
        config.bank.nosso_numero(config, sequence)
    with pytest.raises(NossoNumeroOutOfRange):
        config.bank.campo_livre(config, sequence)


def test_first_and_last_sequences_of_a_year() -> None:
    config = _config()
    assert config.bank.nosso_numero(config, 25200000).startswith("25/200000-")
    assert config.bank.nosso_numero(config, 25999999).startswith("25/999999-")


# --- (d) remessa, field by field ---------------------------------------------------------------

SICREDI = _config()
GENERATED = datetime(2025, 7, 1, 13, 45, 0)
HEADER = RemessaHeader(SICREDI, 7, GENERATED)
NOSSOS = ("25/200042-0", "25/200043-9")

STREET = PayerAddress("Rua das Flores, 12", "Centro", "01310100", "São Paulo", "SP")
JOSE = RemessaPayer("José Ação da Conceição", PayerIdKind.CPF, "52998224725", STREET)
ACME = RemessaPayer("Empresa Ltda", PayerIdKind.CNPJ, "11444777000161", STREET)
TITLES = [
    RemessaTitle(
        nosso_numero=NOSSOS[0],
        document_number="25200042",
        due_date=date(2025, 7, 10),
        amount_cents=12345,
        issue_date=date(2025, 7, 1),
        payer=JOSE,
        fine_percent=Decimal("2.00"),
        daily_interest_cents=4,
    ),
    RemessaTitle(
        nosso_numero=NOSSOS[1],
        document_number="25200043",
        due_date=date(2025, 8, 1),
        amount_cents=100000,
        issue_date=date(2025, 7, 1),
        payer=ACME,
    ),
]


ACCOUNT_IN_FILE_HEADER: list[Field] = [
    (33, 52, "07.0 convênio: not used", " " * 20),
    (53, 57, "08.0 cooperativa", "00165"),
    (58, 58, "09.0 DV da cooperativa", " "),
    (59, 70, "10.0 conta corrente", "000000045981"),
    (71, 71, "11.0 DV da conta", "3"),
    (72, 72, "12.0 não utilizado", " "),
]
FILE_HEADER: list[Field] = [
    (1, 3, "01.0 banco", "748"),
    (4, 7, "02.0 lote", "0000"),
    (8, 8, "03.0 registro", "0"),
    (9, 17, "04.0 CNAB", " " * 9),
    (18, 18, "05.0 tipo de inscrição: CNPJ", "2"),
    (19, 32, "06.0 CNPJ", CNPJ),
    *ACCOUNT_IN_FILE_HEADER,
    (73, 102, "13.0 nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
    (103, 132, "14.0 nome do banco", "SICREDI".ljust(30)),
    (133, 142, "15.0 CNAB", " " * 10),
    (143, 143, "16.0 remessa", "1"),
    (144, 151, "17.0 data de geração", "01072025"),
    (152, 157, "18.0 hora de geração", "134500"),
    (158, 163, "19.0 NSA", "000007"),
    (164, 166, "20.0 leiaute do arquivo", "081"),
    # 21.0 densidade (167-171): see test_density_is_sicredis_default.
    (172, 191, "22.0 reservado banco", " " * 20),
    (192, 211, "23.0 reservado empresa", " " * 20),
    (212, 240, "24.0 CNAB", " " * 29),
]
LOT_HEADER: list[Field] = [
    (1, 3, "01.1 banco", "748"),
    (4, 7, "02.1 lote", "0001"),
    (8, 8, "03.1 registro", "1"),
    (9, 9, "04.1 operação: remessa", "R"),
    (10, 11, "05.1 serviço: cobrança", "01"),
    (12, 13, "06.1 CNAB", "  "),
    (14, 16, "07.1 leiaute do lote", "040"),
    (17, 17, "08.1 CNAB", " "),
    (18, 18, "09.1 tipo de inscrição", "2"),
    (19, 33, "10.1 CNPJ", "0" + CNPJ),
    (34, 53, "11.1 convênio: not used", " " * 20),
    (54, 58, "12.1 cooperativa", "00165"),
    (59, 59, "13.1 DV da cooperativa", " "),
    (60, 71, "14.1 conta corrente", "000000045981"),
    (72, 72, "15.1 DV da conta", "3"),
    (73, 73, "16.1 DV coop/conta: not used", " "),
    (74, 103, "17.1 nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
    (104, 143, "18.1 mensagem 1", " " * 40),
    (144, 183, "19.1 mensagem 2", " " * 40),
    (184, 191, "20.1 número remessa", "00000007"),
    (192, 199, "21.1 data de gravação", "01072025"),
    (200, 207, "22.1 data do crédito", "00000000"),
    (208, 240, "23.1 CNAB", " " * 33),
]


SEGMENT_P: list[Field] = [
    *detail_start("748", 1, "P"),
    (18, 22, "08.3P cooperativa", "00165"),
    (23, 23, "09.3P DV da cooperativa", " "),
    (24, 35, "10.3P conta corrente", "000000045981"),
    (36, 36, "11.3P DV da conta", "3"),
    (37, 37, "12.3P DV coop/conta: not used", " "),
    (38, 57, "13.3P nosso número AABNNNNND, à esquerda", "252000420".ljust(20)),
    (58, 58, "14.3P carteira: cobrança simples", "1"),
    (59, 59, "15.3P cadastramento: com registro", "1"),
    (60, 60, "16.3P documento: tradicional", "1"),
    (61, 61, "17.3P emissão: beneficiário", "2"),
    (62, 62, "18.3P distribuição: beneficiário", "2"),
    (63, 72, "19.3P nº do documento, the ten Sicredi reads", "25200042".ljust(10)),
    (73, 77, "19.3P rest of the field", " " * 5),
    (78, 85, "20.3P vencimento", "10072025"),
    (86, 100, "21.3P valor do título", "000000000012345"),
    (101, 105, "22.3P cooperativa cobradora", "00000"),
    (106, 106, "23.3P DV", " "),
    (107, 108, "24.3P espécie: DMI", "03"),
    (109, 109, "25.3P aceite", "N"),
    (110, 117, "26.3P data de emissão", "01072025"),
    (118, 118, "27.3P juros: valor por dia", "1"),
    # 28.3P asks for a date after the due date and takes the due date when it is not: same day.
    (119, 126, "28.3P data dos juros", "10072025"),
    (127, 141, "29.3P juros por dia", "000000000000004"),
    (142, 142, "30.3P código do desconto 1", "0"),
    (143, 150, "31.3P data do desconto 1", "0" * 8),
    (151, 165, "32.3P desconto 1", "0" * 15),
    (166, 180, "33.3P IOF", "0" * 15),
    (181, 195, "34.3P abatimento", "0" * 15),
    (196, 220, "35.3P uso da empresa", "25200042".ljust(25)),
    (221, 221, "36.3P protesto: não protestar", "3"),
    (222, 223, "37.3P prazo de protesto", "00"),
    (224, 224, "38.3P baixa/devolução: always 1", "1"),
    (225, 227, "39.3P prazo de baixa: always 60", "060"),
    (228, 229, "40.3P moeda: real", "09"),
    (230, 239, "41.3P contrato", "0" * 10),
    (240, 240, "42.3P CNAB", " "),
]
SEGMENT_Q: list[Field] = [
    *detail_start("748", 2, "Q"),
    (18, 18, "08.3Q tipo de inscrição: CPF", "1"),
    (19, 33, "09.3Q CPF", "000052998224725"),
    (34, 73, "10.3Q nome", "JOSE ACAO DA CONCEICAO".ljust(40)),
    (74, 113, "11.3Q endereço", "RUA DAS FLORES, 12".ljust(40)),
    (114, 128, "12.3Q bairro", "CENTRO".ljust(15)),
    (129, 133, "13.3Q CEP", "01310"),
    (134, 136, "14.3Q sufixo do CEP", "100"),
    (137, 151, "15.3Q cidade", "SAO PAULO".ljust(15)),
    (152, 153, "16.3Q UF", "SP"),
    (154, 154, "17.3Q sacador/avalista: não informado", "0"),
    (155, 169, "18.3Q inscrição do sacador", "0" * 15),
    (170, 209, "19.3Q nome do sacador", " " * 40),
    (210, 212, "20.3Q banco correspondente", "000"),
    (213, 232, "21.3Q nosso nº no correspondente", " " * 20),
    (233, 240, "22.3Q CNAB", " " * 8),
]
SEGMENT_R: list[Field] = [
    *detail_start("748", 3, "R"),
    (18, 18, "08.3R código do desconto 2", "0"),
    (19, 26, "09.3R data do desconto 2", "0" * 8),
    (27, 41, "10.3R desconto 2", "0" * 15),
    (42, 42, "11.3R código do desconto 3", "0"),
    (43, 50, "12.3R data do desconto 3", "0" * 8),
    (51, 65, "13.3R desconto 3", "0" * 15),
    (66, 66, "14.3R multa: percentual, the only one Sicredi takes", "2"),
    # 15.3R: Sicredi charges the multa from the due date whatever date is sent.
    (67, 74, "15.3R data da multa", "11072025"),
    (75, 89, "16.3R multa 2,00 %", "000000000000200"),
    (90, 99, "17.3R informação ao pagador", " " * 10),
    (100, 139, "18.3R mensagem 3", " " * 40),
    (140, 179, "19.3R mensagem 4", " " * 40),
    (180, 199, "20.3R CNAB", " " * 20),
    (200, 207, "21.3R ocorrência do pagador", "0" * 8),
    (208, 210, "22.3R banco do débito", "000"),
    (211, 215, "23.3R agência do débito", "00000"),
    (216, 216, "24.3R DV", " "),
    (217, 228, "25.3R conta do débito", "0" * 12),
    (229, 229, "26.3R DV", " "),
    (230, 230, "27.3R DV", " "),
    (231, 231, "28.3R aviso de débito", "0"),
    (232, 240, "29.3R CNAB", " " * 9),
]
SECOND_P: list[Field] = [
    (9, 13, "nº do registro", "00004"),
    (38, 57, "13.3P nosso número", "252000439".ljust(20)),
    (63, 72, "19.3P nº do documento", "25200043".ljust(10)),
    (118, 118, "27.3P juros: isento", "3"),
    (119, 141, "28.3P-29.3P no interest", "0" * 23),
]
SECOND_Q: list[Field] = [
    (9, 13, "nº do registro", "00005"),
    (18, 33, "08.3Q-09.3Q CNPJ", "2" + "011444777000161"),
]
LOT_TRAILER: list[Field] = [
    (1, 3, "01.5 banco", "748"),
    (4, 7, "02.5 lote", "0001"),
    (8, 8, "03.5 registro", "5"),
    (9, 17, "04.5 CNAB", " " * 9),
    (18, 23, "05.5 registros no lote: header, P Q R, P Q, trailer", "000007"),
    (24, 29, "06.5 títulos em cobrança simples", "000002"),
    (30, 46, "07.5 valor em cobrança simples", "00000000000112345"),
    (47, 115, "08.5-13.5 vinculada, caucionada, descontada", "0" * 69),
    (116, 123, "14.5 aviso de lançamento", " " * 8),
    (124, 240, "15.5 CNAB", " " * 117),
]
FILE_TRAILER: list[Field] = [
    (1, 3, "01.9 banco", "748"),
    (4, 7, "02.9 lote", "9999"),
    (8, 8, "03.9 registro", "9"),
    (9, 17, "04.9 CNAB", " " * 9),
    (18, 23, "05.9 lotes", "000001"),
    (24, 29, "06.9 registros", "000009"),
    (30, 35, "07.9 contas p/ conciliação", "000000"),
    (36, 240, "08.9 CNAB", " " * 205),
]
TABLES: dict[int, list[Field]] = {
    0: FILE_HEADER,
    1: LOT_HEADER,
    2: SEGMENT_P,
    3: SEGMENT_Q,
    4: SEGMENT_R,
    5: SECOND_P,
    6: SECOND_Q,
    7: LOT_TRAILER,
    8: FILE_TRAILER,
}


def test_every_field_is_at_its_layout_position() -> None:
    lines = remessa_lines(HEADER, TITLES)
    assert len(lines) == 9
    assert_fields(lines, TABLES)


@pytest.mark.parametrize(
    "table", [LOT_HEADER, SEGMENT_P, SEGMENT_Q, SEGMENT_R, LOT_TRAILER, FILE_TRAILER]
)
def test_tables_cover_every_position(table: list[Field]) -> None:
    covered = [position for start, end, _, _ in table for position in range(start, end + 1)]
    assert covered == list(range(1, 241))


def test_density_is_sicredis_default() -> None:
    # 21.0: "01600" (1600 BPI) is the manual's default.
    assert remessa_lines(HEADER, TITLES)[0][166:171] == "01600"


def test_records_are_240_ascii_with_crlf() -> None:
    text = remessa_text(HEADER, TITLES)
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert all(len(line) == 240 and line.isascii() for line in lines)
    assert all(line[:3] == "748" for line in lines)


@pytest.mark.parametrize(
    ("movement", "code"),
    [
        (Movement.ENTRY, "01"),
        (Movement.WRITE_OFF, "02"),
        (Movement.REBATE, "04"),
        (Movement.DUE_DATE, "06"),
    ],
)
def test_movement_codes(movement: Movement, code: str) -> None:
    rebate = 1000 if movement is Movement.REBATE else 0
    title = TITLES[1]._replace(movement=movement, rebate_cents=rebate)
    p, q = remessa_lines(HEADER, [title])[2:4]
    assert (p[15:17], q[15:17]) == (code, code)


@pytest.mark.parametrize(
    ("nosso", "words"),
    [
        ("252000420", "printed AA/BNNNNN-D"),
        ("25/100042-0", "byte de geração 1, not 2 to 9"),
        ("25/200042-1", "has DV 1; for cooperativa 0165, posto 02"),
    ],
)
def test_a_nosso_numero_not_of_this_beneficiary_is_refused(nosso: str, words: str) -> None:
    with pytest.raises(InvalidRemessa, match=words):
        remessa_lines(HEADER, [TITLES[0]._replace(nosso_numero=nosso)])


def test_a_nosso_numero_of_another_cooperativa_is_refused() -> None:
    other = _config(cooperativa="0710", posto="65", codigo="00129")
    nosso = other.bank.nosso_numero(other, 16208879)
    with pytest.raises(InvalidRemessa, match="for cooperativa 0165"):
        remessa_lines(HEADER, [TITLES[0]._replace(nosso_numero=nosso)])


def test_seu_numero_longer_than_sicredi_reads_is_refused() -> None:
    with pytest.raises(InvalidRemessa, match="1 to 10 characters"):
        remessa_lines(HEADER, [TITLES[0]._replace(document_number="12345678901")])


def test_no_test_file_flag() -> None:
    with pytest.raises(InvalidRemessa, match="no test-file flag"):
        remessa_lines(replace(HEADER, test_file=True), TITLES)


# --- (e) retorno -------------------------------------------------------------------------------


def _boleto(sequence: int, cents: int) -> Boleto:
    numbers = issue_boleto(SICREDI, sequence, cents, date(2025, 7, 10), date(2025, 7, 1))
    payer = Payer("Maria Conceição", "52998224725", 2, "maria@example.com", STREET)
    return Boleto("debt", "upload", 1, sequence, date(2025, 7, 1), payer, numbers)


def _remessa(*sequences: int) -> list[str]:
    titles = [title_from_boleto(_boleto(s, 12345 + i)) for i, s in enumerate(sequences)]
    return remessa_lines(HEADER, titles)


def _occurrence(
    line: int, nosso: str, doc: str, code: str, outcome: Outcome, **changes: Any
) -> Occurrence:
    base = Occurrence(
        line_number=line,
        bank_code="748",
        nosso_numero=nosso,
        document_number=doc,
        code=code,
        outcome=outcome,
        description=cnab_bank_for("748").describe(code),
        reasons=(),
        face_value_cents=0,
        fee_cents=0,
        due_date=date(2025, 7, 10),
        paid_cents=0,
        credited_cents=0,
        interest_cents=0,
        occurrence_date=None,
        credit_date=None,
    )
    return base._replace(**changes)


def test_round_trip_remessa_retorno_occurrences() -> None:
    remessa = _remessa(25200042, 25200043, 25200044, 25200045)
    # An account line of this beneficiary for a nosso número it never issued: 25/299999-?.
    unknown_dv = nosso_numero_dv("0165", "02", "00623", "25299999")
    unknown = "00165 0000000459813 " + f"25299999{unknown_dv}".ljust(20)
    lines = retorno_for(
        remessa,
        {
            0: Paid(12400, date(2025, 7, 11), date(2025, 7, 14), fee_cents=250, interest_cents=55),
            1: Rejected(("45", "48", "A4")),
            2: Registered(fee_cents=180),
            3: WrittenOff(date(2025, 9, 9), fee_cents=90),
        },
        unknown=[unknown],
    )
    result = parse_retorno("\r\n".join(lines) + "\r\n")
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == ("748", 7, date(2025, 7, 1))
    assert result.occurrences == (
        _occurrence(
            3, "25/200042-0", "25200042", "06", Outcome.PAID,
            face_value_cents=12345, fee_cents=250, paid_cents=12400, credited_cents=12150,
            interest_cents=55, occurrence_date=date(2025, 7, 11), credit_date=date(2025, 7, 14),
        ),
        _occurrence(
            5, "25/200043-9", "25200043", "03", Outcome.REJECTED,
            reasons=(
                Reason("45", "Nome do pagador ausente"),
                Reason("48", "CEP inválido"),
                Reason("A4", "Pagador aderente ao DDA"),
            ),
            face_value_cents=12346,
        ),
        _occurrence(
            7, "25/200044-7", "25200044", "02", Outcome.REGISTERED,
            face_value_cents=12347, fee_cents=180,
        ),
        _occurrence(
            9, "25/200045-5", "25200045", "09", Outcome.WRITTEN_OFF,
            face_value_cents=12348, fee_cents=90, occurrence_date=date(2025, 9, 9),
        ),
        _occurrence(
            11, f"25/299999-{unknown_dv}", "25200042", "06", Outcome.PAID,
            face_value_cents=12345, paid_cents=500, credited_cents=500,
            occurrence_date=date(2025, 7, 3), credit_date=date(2025, 7, 4),
        ),
    )  # fmt: skip


def test_simulated_bank_day_matches_issued_numbers() -> None:
    boletos = [_boleto(s, 20000) for s in (25200042, 25200043, 25200044)]
    text = remessa_text(HEADER, [title_from_boleto(b) for b in boletos])
    day = BankDay(paid={0: None}, rejected={2: ("08",)}, unknown=["25/288888-0"])
    result = parse_retorno(simulate(text, day))
    assert (result.unmatched, result.errors) == ((), ())
    issued = {b.numbers.nosso_numero for b in boletos}
    assert [(o.nosso_numero in issued, o.code, o.outcome) for o in result.occurrences] == [
        (True, "02", Outcome.REGISTERED),
        (True, "06", Outcome.PAID),
        (True, "02", Outcome.REGISTERED),
        (True, "03", Outcome.REJECTED),
        (False, "06", Outcome.PAID),
    ]
    assert result.occurrences[3].reasons == (Reason("08", "Nosso número inválido"),)
    # A line the bank sends for a number no remessa carried reads back as it was written.
    assert result.occurrences[4].nosso_numero == "25/288888-0"


@pytest.mark.parametrize(
    ("code", "outcome", "description", "motivos", "reasons"),
    [
        ("14", Outcome.DUE_DATE_CHANGED, "Alteração de vencimento recebida", "", ()),
        ("12", Outcome.REBATE_GRANTED, "Instrução de abatimento recebida", "", ()),
        ("26", Outcome.INSTRUCTION_REJECTED, "Instrução rejeitada", "CZ",
         (Reason("CZ", "Instrução inválida"),)),
        ("30", Outcome.INSTRUCTION_REJECTED, "Alteração de dados rejeitada", "16",
         (Reason("16", "Data de vencimento inválida"),)),
        ("36", Outcome.INSTRUCTION_REJECTED, "Baixa rejeitada", "60",
         (Reason("60", "Movimento para título não cadastrado"),)),
        ("17", Outcome.PAID, "Liquidação após baixa ou de título não registrado", "", ()),
        ("25", Outcome.WRITTEN_OFF, "Protestado e baixado", "", ()),
        # A tarifa's motivos come from table B, not the rejections: no text for them.
        ("28", Outcome.OTHER, "Débito de tarifas/custas", "05", (Reason("05", ""),)),
        ("99", Outcome.OTHER, "Ocorrência 99", "", ()),
    ],
)  # fmt: skip
def test_instruction_and_other_occurrences(
    code: str, outcome: Outcome, description: str, motivos: str, reasons: tuple[Reason, ...]
) -> None:
    lines = retorno_for(_remessa(25200042), {0: Registered()})
    (occurrence,) = parse_retorno(with_code(lines, 2, code, motivos)).occurrences
    assert (occurrence.code, occurrence.outcome, occurrence.description) == (
        code, outcome, description
    )  # fmt: skip
    assert occurrence.reasons == reasons
    assert occurrence.nosso_numero == "25/200042-0"


# A Sicredi retorno published by kivanio/brcobranca (Ruby), spec/arquivos/CNAB240SICREDI.CRT at
# commit 325e0eae69ad298477b935a441a22c61c7556f31: test data only, the whole file (8 records).
BRCOBRANCA_SICREDI_RETORNO = [
    (
        "74800000         24059955200010204346               0039000000000041468 EMPRESAL"
        "TDA ME                SICREDI                                 207042017040951000"
        "00508101600                                                                     "
    ),
    (
        "74800011T01  040 201099955200010304346               0039000000000041468 NAIADE "
        "LTDA ME                                                                         "
        "                       000000030704201700000000                                 "
    ),
    (
        "7480001300001T 0200390 0000000041468 172000595           10000000000     1304201"
        "7000000000000995000      8457                     091000044952927838SURFISTAO ME"
        "DINA                        0000000000000000000000000A4                         "
    ),
    (
        "7480001300002U 02000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000006042017               "
        "     000000000000000                              00000000000000000000000       "
    ),
    (
        "7480001300003T 2800390 0000000041468 172000595           10000000000     1304201"
        "7000000000000995000      8457                     091000044952927838SURFISTAO ME"
        "DINA                        000000000000000000000038005                         "
    ),
    (
        "7480001300004U 28000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000604201706042017       "
        "     000000000000000                              00000000000000000000000       "
    ),
    (
        "74800015         000006000002000000000000019900000000000000000000000000000000000"
        "00000000000000000000000000000000000                                             "
        "                                                                                "
    ),
    (
        "74899999         000001000008000000                                             "
        "                                                                                "
        "                                                                                "
    ),
]


def test_brcobranca_sicredi_sample() -> None:
    assert all(len(line) == 240 for line in BRCOBRANCA_SICREDI_RETORNO)
    result = parse_retorno(BRCOBRANCA_SICREDI_RETORNO)
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == ("748", 5, date(2017, 4, 7))
    registered, fee = result.occurrences
    assert registered == _occurrence(
        3, "17/200059-5", "0000000000", "02", Outcome.REGISTERED,
        # The entry is confirmed with table A's A4: the payer receives it through DDA.
        reasons=(Reason("A4", "Pagador aderente ao DDA"),),
        due_date=date(2017, 4, 13), face_value_cents=995, occurrence_date=date(2017, 4, 6),
    )  # fmt: skip
    assert fee == _occurrence(
        5, "17/200059-5", "0000000000", "28", Outcome.OTHER,
        reasons=(Reason("05", ""),), due_date=date(2017, 4, 13), face_value_cents=995,
        fee_cents=380, occurrence_date=date(2017, 4, 6), credit_date=date(2017, 4, 6),
    )  # fmt: skip


def test_sample_lines_against_a_remessa_of_ours() -> None:
    # The sample's title pairs read the same inside our own remessa's envelope.
    details = BRCOBRANCA_SICREDI_RETORNO[2:6]
    result = parse_retorno(envelope(_remessa(25200042), details))
    assert (result.unmatched, result.errors) == ((), ())
    assert [(o.code, o.nosso_numero) for o in result.occurrences] == [
        ("02", "17/200059-5"),
        ("28", "17/200059-5"),
    ]


# --- (f) properties ----------------------------------------------------------------------------

_digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def configs(draw: st.DrawFn) -> BeneficiaryConfig:
    def digits(n: int) -> str:
        return "".join(draw(_digits) for _ in range(n))

    return _config(digits(4), digits(2), digits(5))


@st.composite
def sequences(draw: st.DrawFn) -> int:
    year = draw(st.integers(0, 99))
    byte = draw(st.integers(2, 9))
    number = draw(st.integers(0, 99999))
    return int(f"{year:02d}{byte}{number:05d}")


@given(configs(), sequences(), st.integers(1, 10**8), st.dates(date(2000, 7, 3), date(2040, 1, 1)))
def test_campo_livre_round_trips_and_check_digits_verify(
    config: BeneficiaryConfig, sequence: int, cents: int, due: date
) -> None:
    issued = issue_boleto(config, sequence, cents, due, due)
    campo_livre = config.bank.campo_livre(config, sequence)
    assert parse_barcode(linha_to_barcode(issued.linha_digitavel)).campo_livre == campo_livre
    assert linha_to_barcode(issued.linha_digitavel_formatted) == issued.barcode

    number = f"{sequence:08d}"
    nosso = issued.nosso_numero
    assert nosso[:2] + nosso[3:9] == number
    own = config.agencia + config.posto + config.codigo_beneficiario
    assert int(nosso[-1]) == _reference_dv(own + number)
    assert campo_livre[2:11] == number + nosso[-1]
    assert campo_livre[11:22] == own
    assert campo_livre[-1] == str(_reference_dv(campo_livre[:-1]))
