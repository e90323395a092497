"""Bradesco (237): published boletos, check digits, configuration, CNAB 240 remessa and retorno.

Boleto rules: Bradesco "Manual de Procedimentos Operacionais para Troca de Arquivos - Cobrança
Bradesco", nº 4008.524.0121, versão 10, 12/08/2015. CNAB 240 positions: Bradesco "Manual de
Procedimentos Operacionais para Troca de Arquivos 240 posições", nº 4008.524.0339, versão 06,
07/2017, 1-based and inclusive as printed there. Only numbers are taken from the implementations
cited; where a source printed the linha digitável with two spaces between fields, it is written
here with one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.banks.bradesco import agencia_dv, nosso_numero_dv
from boleto_service.domain.barcode import build_barcode, parse_barcode
from boleto_service.domain.beneficiary import BeneficiaryConfig
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
    remessa_text,
)
from boleto_service.domain.errors import InvalidBeneficiaryConfig, NossoNumeroOutOfRange
from boleto_service.domain.issuing import issue_boleto
from boleto_service.domain.linha_digitavel import barcode_to_linha, format_linha, linha_to_barcode
from boleto_service.domain.money import MAX_AMOUNT_CENTS
from boletos_cli.bank import (
    BankDay,
    Paid,
    Registered,
    Rejected,
    WrittenOff,
    retorno_for,
    simulate,
)
from tests.support.cnab import Field, assert_fields, detail_start, with_code

CNPJ = "11222333000181"

BRCOBRANCA = "kivanio/brcobranca, spec/brcobranca/boleto/bradesco_spec.rb"
_BOLETO2NET = "BoletoNet/boleto2net, Boleto2.Net.Testes"
BOLETO2NET_09 = f"{_BOLETO2NET}/BancoBradescoCarteira09.cs"
BOLETO2NET_02 = f"{_BOLETO2NET}/BancoBradescoCarteira02Tests.cs"
STELLA = (
    "caelum/caelum-stella, stella-boleto/src/test/java/br/com/caelum/stella/boleto/bancos/"
    "BradescoTest.java"
)
OPENBOLETO = "openboleto/openboleto, tests/Banco/BradescoTest.php"


def _config(
    agencia: str = "4042",
    conta: str = "61900",
    conta_dv: str = "0",
    carteira: str = "09",
    convenio: str = "4680713",
    **extra: str,
) -> BeneficiaryConfig:
    return BeneficiaryConfig(
        name="Cobranças São João Ltda",
        cnpj=CNPJ,
        bank_code="237",
        agencia=agencia,
        conta=conta,
        conta_dv=conta_dv,
        convenio=convenio,
        carteira=carteira,
        **extra,
    )


class Vector(NamedTuple):
    source: str
    agencia: str
    conta: str
    conta_dv: str
    carteira: str
    sequence: int
    amount_cents: int
    due_date: date
    barcode: str | None  # None where the source published only the linha digitável
    linha: str
    nosso_numero: str | None  # as printed, where the source published it


def _boleto2net(
    source: str, carteira: str, seq: int, cents: int, due: date, barcode: str, linha: str, dv: str
) -> Vector:
    # Agência 1234, conta 123456; the source's conta digit "X" stands in for any, and the conta
    # digit is in neither barcode nor nosso número, so "0" stands in here. The source prints the
    # carteira with 3 digits ("009/00000000453-P"); the boleto prints 2.
    return Vector(
        source, "1234", "123456", "0", carteira, seq, cents, due, barcode, linha,
        f"{carteira}/{seq:011d}-{dv}",
    )  # fmt: skip


VECTORS = (
    # "Montar código de barras para carteira número 06".
    Vector(
        BRCOBRANCA, "1172", "0403005", "0", "06", 75896452, 2952_95, date(2009, 4, 30),
        "23795422300002952951172060007589645204030050",
        "23791.17209 60007.589645 52040.300502 5 42230000295295", None,
    ),
    # "Montar código de barras para carteira número 03".
    Vector(
        BRCOBRANCA, "4042", "61900", "0", "03", 777700168, 135_00, date(2008, 2, 2),
        "23791377000000135004042030077770016800619000",
        "23794.04201 30077.770011 68006.190000 1 37700000013500", None,
    ),
    # setUp + testCodigoDeBarraDoBancoBradesco / testLinhaDoBancoBradesco (conta 6580-3).
    Vector(
        STELLA, "2949", "6580", "3", "06", 3, 1_00, date(2006, 6, 10),
        "23796316800000001002949060000000000300065800",
        "23792.94909 60000.000004 03000.658009 6 31680000000100", None,
    ),
    # testInstantiateShouldWork: only the linha digitável is published.
    Vector(
        OPENBOLETO, "1172", "403005", "0", "06", 123456789, 10_50, date(2013, 1, 1), None,
        "23791.17209 60012.345678 89040.300504 8 55650000001050", None,
    ),
    # Bradesco_09_BoletoOK: one boleto per general check digit 1..9.
    _boleto2net(BOLETO2NET_09, "09", 453, 141_50, date(2016, 9, 1),
                "23791690400000141501234090000000045301234560",
                "23791.23405 90000.000043 53012.345608 1 69040000014150", "P"),
    _boleto2net(BOLETO2NET_09, "09", 456, 2717_16, date(2016, 10, 1),
                "23792693400002717161234090000000045601234560",
                "23791.23405 90000.000043 56012.345601 2 69340000271716", "4"),
    _boleto2net(BOLETO2NET_09, "09", 444, 297_21, date(2016, 9, 2),
                "23793690500000297211234090000000044401234560",
                "23791.23405 90000.000043 44012.345607 3 69050000029721", "0"),
    _boleto2net(BOLETO2NET_09, "09", 468, 297_21, date(2016, 10, 2),
                "23794693500000297211234090000000046801234560",
                "23791.23405 90000.000043 68012.345606 4 69350000029721", "8"),
    _boleto2net(BOLETO2NET_09, "09", 443, 297_21, date(2016, 9, 2),
                "23795690500000297211234090000000044301234560",
                "23791.23405 90000.000043 43012.345609 5 69050000029721", "2"),
    _boleto2net(BOLETO2NET_09, "09", 414, 649_39, date(2016, 8, 1),
                "23796687300000649391234090000000041401234560",
                "23791.23405 90000.000043 14012.345600 6 68730000064939", "9"),
    _boleto2net(BOLETO2NET_09, "09", 561, 270_00, date(2017, 1, 1),
                "23797702600000270001234090000000056101234560",
                "23791.23405 90000.000050 61012.345601 7 70260000027000", "7"),
    _boleto2net(BOLETO2NET_09, "09", 445, 2924_11, date(2016, 9, 2),
                "23798690500002924111234090000000044501234560",
                "23791.23405 90000.000043 45012.345604 8 69050000292411", "9"),
    _boleto2net(BOLETO2NET_09, "09", 562, 830_00, date(2017, 1, 1),
                "23799702600000830001234090000000056201234560",
                "23791.23405 90000.000050 62012.345609 9 70260000083000", "5"),
    # Bradesco_02_BoletoOK: carteira 02, with amounts above R$ 10,000.
    _boleto2net(BOLETO2NET_02, "02", 125, 25387_72, date(2022, 3, 2),
                "23799891200025387721234020000000012501234560",
                "23791.23405 20000.000016 25012.345606 9 89120002538772", "P"),
    _boleto2net(BOLETO2NET_02, "02", 4, 2830_68, date(2022, 3, 2),
                "23792891200002830681234020000000000401234560",
                "23791.23405 20000.000008 04012.345601 2 89120000283068", "0"),
    _boleto2net(BOLETO2NET_02, "02", 124, 25387_73, date(2022, 2, 16),
                "23793889800025387731234020000000012401234560",
                "23791.23405 20000.000016 24012.345609 3 88980002538773", "1"),
    _boleto2net(BOLETO2NET_02, "02", 1, 19290_06, date(2022, 3, 14),
                "23797892400019290061234020000000000101234560",
                "23791.23405 20000.000008 01012.345607 7 89240001929006", "6"),
    _boleto2net(BOLETO2NET_02, "02", 126, 25387_73, date(2022, 2, 23),
                "23796890500025387731234020000000012601234560",
                "23791.23405 20000.000016 26012.345604 6 89050002538773", "8"),
)  # fmt: skip


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.linha)
def test_published_boleto_is_reproduced(vector: Vector) -> None:
    config = _config(vector.agencia, vector.conta, vector.conta_dv, vector.carteira)
    # Issued on its due date, so the overdue policy leaves date and amount alone.
    issued = issue_boleto(
        config, vector.sequence, vector.amount_cents, vector.due_date, vector.due_date
    )
    assert issued.linha_digitavel_formatted == vector.linha
    if vector.barcode is not None:
        assert issued.barcode == vector.barcode
    if vector.nosso_numero is not None:
        assert issued.nosso_numero == vector.nosso_numero


@pytest.mark.parametrize(
    ("carteira", "number", "dv"),
    [
        # The three worked examples of manual 4008.524.0121, pages 17-18: carteira 19.
        ("19", "00000000002", "8"),
        ("19", "00000000001", "P"),  # remainder 1: 11 - 1 = 10 prints P
        ("19", "00000000006", "0"),  # remainder 0 prints 0
        # BRCOBRANCA, "Montar nosso_numero_boleto".
        ("06", "00000000525", "P"),
        ("09", "00000000001", "1"),
    ],
)
def test_nosso_numero_check_digit(carteira: str, number: str, dv: str) -> None:
    assert nosso_numero_dv(carteira, number) == dv


@pytest.mark.parametrize(
    ("agencia", "dv"),
    # BRCOBRANCA, "#agencia_dv": one agência per digit, P included; "4042-8" from
    # "Montar agencia_conta_boleto".
    [("0255", "0"), ("0943", "1"), ("1467", "2"), ("0794", "3"), ("0155", "4"), ("0650", "5"),
     ("0199", "6"), ("1425", "7"), ("2839", "8"), ("2332", "9"), ("0121", "P"), ("4042", "8")],
)  # fmt: skip
def test_agencia_check_digit(agencia: str, dv: str) -> None:
    assert agencia_dv(agencia) == dv


def test_campo_livre_and_nosso_numero_of_the_largest_sequence() -> None:
    config = _config(agencia="0001", conta="1", carteira="09")
    largest = 10**11 - 1
    assert config.bank.campo_livre(config, largest) == "0001" + "09" + "9" * 11 + "0000001" + "0"
    assert (
        config.bank.nosso_numero(config, largest)
        == f"09/{largest}-{nosso_numero_dv('09', '9' * 11)}"
    )


@pytest.mark.parametrize("sequence", [0, -1, 10**11])
def test_sequence_outside_the_nosso_numero_field(sequence: int) -> None:
    config = _config()
    with pytest.raises(NossoNumeroOutOfRange, match="11 digits"):
        config.bank.campo_livre(config, sequence)
    with pytest.raises(NossoNumeroOutOfRange, match="11 digits"):
        config.bank.nosso_numero(config, sequence)


def test_a_usable_configuration_has_no_problems() -> None:
    config = _config(conta="1234567", conta_dv="P", carteira="09")
    assert config.bank.configuration_problems(config) == []


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"carteira": "9"}, "carteira", "2 digits (pad with a leading zero"),
        ({"carteira": "009"}, "carteira", "2 digits"),
        ({"carteira": "21"}, "carteira", "Cobrança Interna"),
        ({"carteira": "22"}, "carteira", "Cobrança Interna"),
        ({"conta": "12345678"}, "conta", "at most 7 digits"),
        ({"conta_dv": "X"}, "conta_dv", "one digit or P"),
        ({"codigo_beneficiario": "123"}, "codigo_beneficiario", "Código da Empresa goes in"),
        ({"posto": "01"}, "posto", "no posto"),
    ],
)
def test_configuration_problem(changes: dict[str, str], field: str, text: str) -> None:
    with pytest.raises(InvalidBeneficiaryConfig) as raised:
        _config(**changes)
    (problem,) = raised.value.problems
    assert problem.field == field and text in problem.text
    assert "Bradesco" in problem.text


def test_every_configuration_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidBeneficiaryConfig) as raised:
        _config(carteira="21", conta="123456789", conta_dv="X", posto="1")
    assert sorted(p.field for p in raised.value.problems) == [
        "carteira", "conta", "conta_dv", "posto"
    ]  # fmt: skip


# CNAB 240 remessa --------------------------------------------------------------------------

BRADESCO = _config()  # agência 4042 (digit 8), conta 61900-0, carteira 09, convênio 4680713
GENERATED = datetime(2025, 7, 1, 13, 45, 0)
HEADER = RemessaHeader(BRADESCO, 7, GENERATED)
ADDRESS = PayerAddress("Rua das Flores, 12", "Centro", "01310100", "São Paulo", "SP")
JOSE = RemessaPayer("José Ação da Conceição", PayerIdKind.CPF, "52998224725", ADDRESS)
ACME = RemessaPayer("Empresa Ltda", PayerIdKind.CNPJ, "11444777000161", ADDRESS)
# Digits: 0900000000042 weighs 2*2 + 4*3 + 9*7 = 79, remainder 2, digit 9; 43 gives 81 and 7.
NOSSO_42, NOSSO_43 = "09/00000000042-9", "09/00000000043-7"
TITLES = [
    RemessaTitle(
        nosso_numero=NOSSO_42,
        document_number="42",
        due_date=date(2025, 7, 10),
        amount_cents=12345,
        issue_date=date(2025, 7, 1),
        payer=JOSE,
        fine_percent=Decimal("2.00"),
        daily_interest_cents=4,
    ),
    RemessaTitle(NOSSO_43, "43", date(2025, 8, 1), 100000, date(2025, 7, 1), ACME),
]


ACCOUNT_40 = "00000000000004680713" + "04042" + "8" + "000000061900" + "0" + " "
NAME = "COBRANCAS SAO JOAO LTDA".ljust(30)


def _segment_q(number: int, kind: str, id_number: str, name: str) -> list[Field]:
    return [
        *detail_start("237", number, "Q"),
        (18, 18, "08.3Q tipo de inscrição", kind),
        (19, 33, "09.3Q número de inscrição", id_number.zfill(15)),
        (34, 73, "10.3Q nome", name.ljust(40)),
        (74, 113, "11.3Q endereço", "RUA DAS FLORES, 12".ljust(40)),
        (114, 128, "12.3Q bairro", "CENTRO".ljust(15)),
        (129, 133, "13.3Q CEP", "01310"),
        (134, 136, "14.3Q sufixo do CEP", "100"),
        (137, 151, "15.3Q cidade", "SAO PAULO".ljust(15)),
        (152, 153, "16.3Q UF", "SP"),
        (154, 154, "17.3Q tipo de inscrição do sacador/avalista: none", "0"),
        (155, 169, "18.3Q inscrição do sacador/avalista", "0" * 15),
        (170, 209, "19.3Q nome do sacador/avalista", " " * 40),
        (210, 212, "20.3Q banco correspondente", "000"),
        (213, 232, "21.3Q nosso número no correspondente", " " * 20),
        (233, 240, "22.3Q CNAB", " " * 8),
    ]


def _segment_p(number: int, nosso: str, dv: str, doc: str, due: str, cents: int) -> list[Field]:
    return [
        *detail_start("237", number, "P"),
        (18, 22, "08.3P agência", "04042"),
        (23, 23, "09.3P DV da agência", "8"),
        (24, 35, "10.3P conta", "000000061900"),
        (36, 36, "11.3P DV da conta", "0"),
        (37, 37, "12.3P DV ag/conta", " "),
        (38, 40, "13.3P identificação do produto (carteira)", "009"),
        (41, 45, "13.3P zeros", "00000"),
        (46, 56, "13.3P nosso número", nosso),
        (57, 57, "13.3P dígito do nosso número", dv),
        (58, 58, "14.3P carteira: cobrança simples", "1"),
        (59, 59, "15.3P cadastramento: com registro", "1"),
        (60, 60, "16.3P documento: tradicional", "1"),
        (61, 61, "17.3P emissão: cliente emite", "2"),
        (62, 62, "18.3P distribuição: cliente distribui", "2"),
        (63, 77, "19.3P número do documento", doc.ljust(15)),
        (78, 85, "20.3P vencimento", due),
        (86, 100, "21.3P valor do título", f"{cents:015d}"),
        (101, 105, "22.3P agência cobradora", "00000"),
        (106, 106, "23.3P DV da agência cobradora", " "),
        (107, 108, "24.3P espécie: DM", "02"),
        (109, 109, "25.3P aceite", "N"),
        (110, 117, "26.3P data de emissão", "01072025"),
        (142, 142, "30.3P código do desconto 1", "0"),
        (143, 150, "31.3P data do desconto 1", "0" * 8),
        (151, 165, "32.3P desconto 1", "0" * 15),
        (166, 180, "33.3P IOF", "0" * 15),
        (181, 195, "34.3P abatimento", "0" * 15),
        (196, 220, "35.3P uso da empresa", doc.ljust(25)),
        (221, 221, "36.3P protesto: não protestar", "3"),
        (222, 223, "37.3P prazo para protesto", "00"),
        (224, 224, "38.3P baixa: não baixar (the contract's term)", "2"),
        (225, 227, "39.3P prazo para baixa", "000"),
        (228, 229, "40.3P moeda: real", "09"),
        (230, 239, "41.3P contrato", "0" * 10),
        (240, 240, "42.3P CNAB", " "),
    ]


FIELDS: dict[int, list[Field]] = {
    0: [
        (1, 3, "01.0 banco", "237"),
        (4, 7, "02.0 lote", "0000"),
        (8, 8, "03.0 registro", "0"),
        (9, 17, "04.0 CNAB", " " * 9),
        (18, 18, "05.0 tipo de inscrição: CNPJ", "2"),
        (19, 32, "06.0 CNPJ", CNPJ),
        (33, 52, "07.0 código do convênio", "00000000000004680713"),
        (53, 57, "08.0 agência", "04042"),
        (58, 58, "09.0 DV da agência", "8"),
        (59, 70, "10.0 conta", "000000061900"),
        (71, 71, "11.0 DV da conta", "0"),
        (72, 72, "12.0 DV ag/conta", " "),
        (73, 102, "13.0 nome da empresa", NAME),
        (103, 132, "14.0 nome do banco", "BRADESCO".ljust(30)),
        (133, 142, "15.0 CNAB", " " * 10),
        (143, 143, "16.0 código remessa", "1"),
        (144, 151, "17.0 data de geração", "01072025"),
        (152, 157, "18.0 hora de geração", "134500"),
        (158, 163, "19.0 NSA", "000007"),
        (164, 166, "20.0 versão do layout", "084"),
        (167, 171, "21.0 densidade", "00000"),
        (172, 191, "22.0 reservado banco", " " * 20),
        (192, 211, "23.0 reservado empresa", " " * 20),
        (212, 240, "24.0 CNAB", " " * 29),
    ],
    1: [
        (1, 3, "01.1 banco", "237"),
        (4, 7, "02.1 lote", "0001"),
        (8, 8, "03.1 registro", "1"),
        (9, 9, "04.1 operação: remessa", "R"),
        (10, 11, "05.1 serviço: cobrança", "01"),
        (12, 13, "06.1 CNAB", "  "),
        (14, 16, "07.1 versão do lote", "042"),
        (17, 17, "08.1 CNAB", " "),
        (18, 18, "09.1 tipo de inscrição", "2"),
        (19, 33, "10.1 CNPJ", "0" + CNPJ),
        (34, 73, "11.1-16.1 convênio, agência, conta e dígitos", ACCOUNT_40),
        (74, 103, "17.1 nome da empresa", NAME),
        (104, 143, "18.1 mensagem 1", " " * 40),
        (144, 183, "19.1 mensagem 2", " " * 40),
        (184, 191, "20.1 número remessa", "00000007"),
        (192, 199, "21.1 data de gravação", "01072025"),
        (200, 207, "22.1 data do crédito", "0" * 8),
        (208, 240, "23.1 CNAB", " " * 33),
    ],
    2: [
        *_segment_p(1, "00000000042", "9", "42", "10072025", 12345),
        (118, 118, "27.3P juros: valor por dia", "1"),
        (119, 126, "28.3P data dos juros", "10072025"),
        (127, 141, "29.3P juros por dia", "000000000000004"),
    ],
    3: _segment_q(2, "1", "52998224725", "JOSE ACAO DA CONCEICAO"),
    4: [
        *detail_start("237", 3, "R"),
        (18, 65, "08.3R-13.3R descontos 2 e 3", "0" * 48),
        (66, 66, "14.3R código da multa: percentual", "2"),
        (67, 74, "15.3R data da multa", "11072025"),
        (75, 89, "16.3R multa 2,00 %", "000000000000200"),
        (90, 99, "17.3R informação ao pagador", " " * 10),
        (100, 179, "18.3R-19.3R mensagens 3 e 4", " " * 80),
        (180, 199, "20.3R CNAB", " " * 20),
        (200, 207, "21.3R ocorrência do pagador", "0" * 8),
        (208, 215, "22.3R-23.3R banco e agência para débito", "0" * 8),
        (232, 240, "29.3R CNAB", " " * 9),
    ],
    5: [
        *_segment_p(4, "00000000043", "7", "43", "01082025", 100000),
        (118, 141, "27.3P-29.3P juros: isento", "3" + "0" * 23),
    ],
    6: _segment_q(5, "2", "11444777000161", "EMPRESA LTDA"),
    7: [
        (1, 3, "01.5 banco", "237"),
        (4, 7, "02.5 lote", "0001"),
        (8, 8, "03.5 registro", "5"),
        (9, 17, "04.5 CNAB", " " * 9),
        (18, 23, "05.5 registros no lote", "000007"),
        (24, 29, "06.5 títulos em cobrança simples", "000002"),
        (30, 46, "07.5 valor em cobrança simples", f"{12345 + 100000:017d}"),
        (47, 115, "08.5-13.5 vinculada, caucionada, descontada", "0" * 69),
        (116, 123, "14.5 aviso de lançamento", " " * 8),
        (124, 240, "15.5 CNAB", " " * 117),
    ],
    8: [
        (1, 3, "01.9 banco", "237"),
        (4, 7, "02.9 lote", "9999"),
        (8, 8, "03.9 registro", "9"),
        (9, 17, "04.9 CNAB", " " * 9),
        (18, 23, "05.9 quantidade de lotes", "000001"),
        (24, 29, "06.9 quantidade de registros", "000009"),
        (30, 35, "07.9 contas p/ conciliação", "000000"),
        (36, 240, "08.9 CNAB", " " * 205),
    ],
}


def test_every_field_is_at_its_layout_position() -> None:
    lines = remessa_lines(HEADER, TITLES)
    kinds = [line[7] + (line[13] if line[7] == "3" else "") for line in lines]
    assert kinds == ["0", "1", "3P", "3Q", "3R", "3P", "3Q", "5", "9"]
    assert all(len(line) == 240 and line.isascii() for line in lines)
    assert remessa_text(HEADER, TITLES) == "\r\n".join(lines) + "\r\n"
    assert_fields(lines, FIELDS)


def test_a_stated_agencia_digit_is_written_instead_of_the_computed_one() -> None:
    header = RemessaHeader(BRADESCO, 7, GENERATED, agencia_dv="P")
    lines = remessa_lines(header, TITLES[:1])
    assert (lines[0][57], lines[1][58], lines[2][22]) == ("P", "P", "P")


@pytest.mark.parametrize(
    ("movement", "code"),
    [(Movement.ENTRY, "01"), (Movement.WRITE_OFF, "02"), (Movement.REBATE, "04"),
     (Movement.DUE_DATE, "06")],
)  # fmt: skip
def test_movement_codes_are_febraban_c004(movement: Movement, code: str) -> None:
    assert cnab_bank_for("237").movement_code(movement) == code
    title = RemessaTitle(
        NOSSO_42, "42", date(2025, 7, 10), 100, date(2025, 7, 1), JOSE, movement=movement,
        rebate_cents=10 if movement is Movement.REBATE else 0,
    )  # fmt: skip
    details = [line for line in remessa_lines(HEADER, [title]) if line[7] == "3"]
    assert [line[15:17] for line in details] == [code, code]


def test_header_problems_are_reported_at_once() -> None:
    config = _config(convenio="")
    header = RemessaHeader(
        config, 7, GENERATED, agencia_dv="X", variacao_carteira="019", test_file=True
    )
    with pytest.raises(InvalidRemessa) as raised:
        remessa_lines(header, TITLES)
    assert sorted(p.field for p in raised.value.problems) == [
        "agencia_dv", "convenio", "test_file", "variacao_carteira"
    ]  # fmt: skip
    assert cnab_bank_for("237").header_problems(HEADER) == []


@pytest.mark.parametrize(
    ("nosso_numero", "text"),
    [
        ("0900000000042-9", "printed CC/NNNNNNNNNNN-D"),
        ("09/0000000042-9", "printed CC/NNNNNNNNNNN-D"),
        ("09/00000000042-X", "printed CC/NNNNNNNNNNN-D"),
        ("06/00000000042-9", "not of carteira 09"),
        ("09/00000000042-P", "has check digit P, expected 9"),
    ],
)
def test_nosso_numero_must_be_of_the_carteira_with_its_digit(nosso_numero: str, text: str) -> None:
    title = RemessaTitle(nosso_numero, "42", date(2025, 7, 10), 1, date(2025, 7, 1), JOSE)
    with pytest.raises(InvalidRemessa) as raised:
        remessa_lines(HEADER, [title])
    (problem,) = raised.value.problems
    assert problem.field == "nosso_numero" and text in problem.text


def test_a_p_check_digit_is_written_as_printed() -> None:
    # Sequence 1 of carteira 19 has the digit P (the manual's own example).
    config = _config(carteira="19")
    nosso = config.bank.nosso_numero(config, 1)
    assert nosso == "19/00000000001-P"
    title = RemessaTitle(nosso, "1", date(2025, 7, 10), 1, date(2025, 7, 1), JOSE)
    p = remessa_lines(RemessaHeader(config, 1, GENERATED), [title])[2]
    assert p[37:57] == "019" + "00000" + "00000000001" + "P"


# CNAB 240 retorno --------------------------------------------------------------------------

MARIA = RemessaPayer("Maria Conceição", PayerIdKind.CPF, "52998224725", ADDRESS)


def _issued_title(sequence: int, cents: int) -> RemessaTitle:
    """A remessa title from a boleto issued for BRADESCO, as the service would send it."""
    issued = issue_boleto(BRADESCO, sequence, cents, date(2025, 7, 10), date(2025, 7, 1))
    return RemessaTitle(
        issued.nosso_numero, str(sequence), issued.due_date, issued.amount_cents,
        date(2025, 7, 1), MARIA,
    )  # fmt: skip


def _remessa() -> list[str]:
    titles = [_issued_title(42, 12345), _issued_title(43, 50000), _issued_title(44, 700)]
    return remessa_lines(HEADER, [*titles, _issued_title(45, 900)])


def test_round_trip_remessa_retorno_occurrences() -> None:
    remessa = _remessa()
    # Positions 18-57 of a title the remessa does not have: same account, number 99999999999.
    unknown = remessa[2][17:37] + "009" + "00000" + "99999999999" + "9"
    lines = retorno_for(
        remessa,
        {
            0: Paid(12400, date(2025, 7, 11), date(2025, 7, 14), fee_cents=250, interest_cents=55),
            1: Rejected(("48", "45", "A4")),
            2: Registered(fee_cents=180),
            3: WrittenOff(date(2025, 8, 20), fee_cents=90),
        },
        unknown=[unknown],
    )
    result = parse_retorno("\r\n".join(lines) + "\r\n")
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == ("237", 7, date(2025, 7, 1))
    paid, rejected, registered, written_off, stranger = result.occurrences
    assert (paid.nosso_numero, paid.document_number, paid.code, paid.outcome) == (
        "09/00000000042-9", "42", "06", Outcome.PAID
    )  # fmt: skip
    assert (paid.paid_cents, paid.credited_cents, paid.interest_cents, paid.fee_cents) == (
        12400, 12150, 55, 250
    )  # fmt: skip
    assert (paid.face_value_cents, paid.due_date) == (12345, date(2025, 7, 10))
    assert (paid.occurrence_date, paid.credit_date) == (date(2025, 7, 11), date(2025, 7, 14))
    assert (rejected.nosso_numero, rejected.outcome, rejected.description) == (
        "09/00000000043-7", Outcome.REJECTED, "Entrada rejeitada"
    )  # fmt: skip
    assert rejected.reasons == (
        Reason("48", "CEP inválido"),
        Reason("45", "Nome do pagador não informado"),
        Reason("A4", ""),  # pagador DDA, which the manual marks as not handled by Bradesco
    )
    assert (registered.outcome, registered.description, registered.fee_cents) == (
        Outcome.REGISTERED, "Entrada confirmada", 180
    )  # fmt: skip
    assert registered.reasons == ()
    assert (written_off.nosso_numero, written_off.outcome, written_off.description) == (
        "09/00000000045-3", Outcome.WRITTEN_OFF, "Baixa"
    )  # fmt: skip
    assert written_off.occurrence_date == date(2025, 8, 20)
    assert stranger.nosso_numero == "09/99999999999-9"
    assert stranger.outcome == Outcome.PAID


@pytest.mark.parametrize(
    ("code", "outcome", "description"),
    [
        ("14", Outcome.DUE_DATE_CHANGED, "Confirmação de recebimento da alteração de vencimento"),
        ("12", Outcome.REBATE_GRANTED, "Confirmação de recebimento da instrução de abatimento"),
        ("17", Outcome.PAID, "Liquidação após baixa ou de título não registrado"),
        ("25", Outcome.WRITTEN_OFF, "Protestado e baixado"),
        ("28", Outcome.OTHER, "Débito de tarifas/custas"),
        ("45", Outcome.OTHER, "Título pago com cheque compensado"),
        ("98", Outcome.OTHER, "Ocorrência 98"),
    ],
)
def test_instruction_and_other_occurrences(code: str, outcome: Outcome, description: str) -> None:
    lines = retorno_for(_remessa(), {0: Registered()})
    lines = with_code(lines, 2, code)
    (occurrence,) = parse_retorno(lines).occurrences
    assert (occurrence.code, occurrence.outcome, occurrence.description) == (
        code, outcome, description
    )  # fmt: skip


@pytest.mark.parametrize(
    ("code", "description"), [("26", "Instrução rejeitada"), ("30", "Alteração de dados rejeitada")]
)
def test_rejected_instructions_carry_their_reasons(code: str, description: str) -> None:
    lines = retorno_for(_remessa(), {0: Registered()})
    lines = with_code(lines, 2, code, "6079")
    (occurrence,) = parse_retorno(lines).occurrences
    assert (occurrence.outcome, occurrence.description) == (
        Outcome.INSTRUCTION_REJECTED, description
    )  # fmt: skip
    assert occurrence.reasons == (
        Reason("60", "Movimento para título não cadastrado"),
        Reason("79", "Data de juros de mora inválida"),
    )


def test_liquidation_motivos_are_not_rejection_reasons() -> None:
    # C047-C: on a 06 the motivos say how the title was paid (04 compensação eletrônica), and
    # "04" must not be read as table A's "código de movimento não permitido".
    lines = retorno_for(_remessa(), {0: Paid(12345, date(2025, 7, 10), date(2025, 7, 11))})
    lines = with_code(lines, 2, "06", "04")
    (occurrence,) = parse_retorno(lines).occurrences
    assert occurrence.reasons == (Reason("04", ""),)


def test_simulated_bank_day() -> None:
    remessa = _remessa()
    nossos = [
        cnab_bank_for("237").retorno_nosso_numero(line) for line in remessa if line[13] == "P"
    ]
    day = BankDay(
        paid={0: None, 2: 650}, rejected={1: ("16", "20")}, fee_cents=150,
        unknown=["09/99999999999-9"],
    )  # fmt: skip
    result = parse_retorno(simulate("".join(line + "\r\n" for line in remessa), day))
    assert (result.unmatched, result.errors) == ((), ())
    assert [(o.nosso_numero, o.code, o.outcome, o.paid_cents) for o in result.occurrences] == [
        (nossos[0], "02", Outcome.REGISTERED, 0),
        (nossos[0], "06", Outcome.PAID, 12345),
        (nossos[1], "03", Outcome.REJECTED, 0),
        (nossos[2], "02", Outcome.REGISTERED, 0),
        (nossos[2], "06", Outcome.PAID, 650),
        (nossos[3], "02", Outcome.REGISTERED, 0),
        ("09/99999999999-9", "06", Outcome.PAID, 12345),
    ]
    assert nossos == [_issued_title(seq, 1).nosso_numero for seq in (42, 43, 44, 45)]
    assert result.occurrences[2].reasons == (
        Reason("16", "Data de vencimento inválida"),
        Reason("20", "Valor do título inválido"),
    )
    assert result.occurrences[4].credited_cents == 650 - 150


def test_retorno_filler_between_carteira_and_number_is_not_read() -> None:
    # The layout asks for zeros at 41-45; a file with blanks there names the same title.
    lines = retorno_for(_remessa(), {0: Registered()})
    t = lines[2]
    lines[2] = t[:40] + " " * 5 + t[45:]
    (occurrence,) = parse_retorno(lines).occurrences
    assert occurrence.nosso_numero == "09/00000000042-9"


# Properties --------------------------------------------------------------------------------


def _independent_dv(carteira: str, number: str) -> str:
    # Weights 2..7 from the right, as the manual's worked example lays them out.
    digits = carteira + number
    weights = [2 + i % 6 for i in range(len(digits))]
    total = sum(int(d) * w for d, w in zip(reversed(digits), weights, strict=True))
    return {0: "0", 1: "P"}.get(total % 11, str(11 - total % 11))


_carteiras = st.text(alphabet="0123456789", min_size=2, max_size=2).filter(
    lambda c: c not in ("21", "22")
)


@given(
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.text(alphabet="0123456789", min_size=1, max_size=7),
    _carteiras,
    st.integers(1, 10**11 - 1),
    st.integers(1000, 9999),
    st.integers(1, MAX_AMOUNT_CENTS),
)
def test_campo_livre_round_trips_and_nosso_numero_verifies(
    agencia: str, conta: str, carteira: str, sequence: int, factor: int, cents: int
) -> None:
    config = _config(agencia=agencia, conta=conta, carteira=carteira)
    livre = config.bank.campo_livre(config, sequence)
    assert livre == f"{agencia}{carteira}{sequence:011d}{conta.zfill(7)}0"
    barcode = build_barcode("237", factor, cents, livre)
    linha = format_linha(barcode_to_linha(barcode))
    assert parse_barcode(linha_to_barcode(linha)).campo_livre == livre
    nosso = config.bank.nosso_numero(config, sequence)
    assert nosso[:3] == f"{carteira}/" and nosso[3:14] == livre[6:17] and nosso[14] == "-"
    assert nosso[15:] == _independent_dv(carteira, livre[6:17])
    # The remessa takes every nosso número the boleto prints.
    header = RemessaHeader(config, 1, GENERATED)
    assert cnab_bank_for("237").nosso_numero_problem(header, nosso) is None
