"""Sicoob (756): published boletos, check digits, configuration, the remessa and the retorno.

The layout is Sicoob's workbook "Leiaute Cobrança Sicoob - Sistemas de Terceiro" (Instruções para
montagem e validação de boletos de cobrança, atualização 22/08/2017): sheets "01.Contracapa" and
"02.Especificações do Boleto" for the boleto, "05.Remessa - Opção CNAB240" and "06.Retorno -
Opção CNAB240" for the files (file layout 081, lot layout 040). Positions are 1-based and
inclusive, as the workbook prints them.

Published vectors and sample files come from other implementations and are cited where used;
only their numbers and a few lines of their test data are taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import cycle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from boleto_service.domain.banks.sicoob import cooperativa_dv, nosso_numero_dv
from boleto_service.domain.barcode import parse_barcode
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
BRCOBRANCA = "kivanio/brcobranca, spec/brcobranca/boleto/sicoob_spec.rb"
OPENBOLETO = "openboleto/openboleto, tests/Banco/SicoobTest.php"
BOLETO2NET = "BoletoNet/boleto2net, Boleto2.Net.Testes/BancoSicoobCarteira1_01Tests.cs"


def _config(cooperativa: str, cliente: str, **changes: str) -> BeneficiaryConfig:
    fields = dict(
        name="Cobranças São João Ltda", cnpj=CNPJ, bank_code="756", agencia=cooperativa,
        conta="417270", conta_dv="5", carteira="1", codigo_beneficiario=cliente,
    )  # fmt: skip
    return BeneficiaryConfig(**(fields | changes))


# --- (a) published boletos ----------------------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    source: str
    cooperativa: str
    cliente: str  # código do cliente, its check digit last
    sequence: int
    amount_cents: int
    due_date: date
    barcode: str | None  # None where the source published only the linha digitável
    linha: str
    nosso_numero: str | None  # printed form, where the source published it


def _boleto2net(seq: int, cents: int, due: date, barcode: str, linha: str, nosso: str) -> Vector:
    # Cooperativa 4277, cliente 17227-8 (carteira 1, modalidade 01).
    return Vector(BOLETO2NET, "4277", "172278", seq, cents, due, barcode, linha, nosso)


VECTORS = (
    # "Montar código de barras modalidade 01": cooperativa 4327, convênio (código do cliente)
    # 229385, nosso número 2.
    Vector(
        BRCOBRANCA, "4327", "229385", 2, 50_00, date(2016, 2, 18), None,
        "75691.43279 01022.938508 00000.240010 2 67080000005000", None,
    ),
    # testInstantiateShouldWork: agência 3069, convênio 153850, sequencial 203210.
    Vector(
        OPENBOLETO, "3069", "153850", 203210, 1575_75, date(2018, 5, 25), None,
        "75691.30698 01015.385006 20321.010017 9 75350000157575", "0203210-1",
    ),
    # Sicoob_1_01_BoletoOK: one boleto per general check digit 1..9; nosso números 4 and 8 have
    # remainders 0 and 1, both of whose DVs are 0.
    _boleto2net(4, 300_00, date(2016, 11, 10), "75691697400000300001427701017227800000040001",
                "75691.42776 01017.227800 00000.400010 1 69740000030000", "0000004-0"),
    _boleto2net(3, 300_00, date(2017, 3, 27), "75692711100000300001427701017227800000033001",
                "75691.42776 01017.227800 00000.330019 2 71110000030000", "0000003-3"),
    _boleto2net(4, 400_00, date(2017, 4, 27), "75693714200000400001427701017227800000040001",
                "75691.42776 01017.227800 00000.400010 3 71420000040000", "0000004-0"),
    _boleto2net(6, 500_00, date(2017, 1, 5), "75694703000000500001427701017227800000065001",
                "75691.42776 01017.227800 00000.650010 4 70300000050000", "0000006-5"),
    _boleto2net(9, 900_00, date(2017, 9, 27), "75695729500000900001427701017227800000097001",
                "75691.42776 01017.227800 00000.970012 5 72950000090000", "0000009-7"),
    _boleto2net(7, 600_00, date(2017, 2, 7), "75696706300000600001427701017227800000072001",
                "75691.42776 01017.227800 00000.720011 6 70630000060000", "0000007-2"),
    _boleto2net(12349, 4011_24, date(2016, 12, 28), "75697702200004011241427701017227800123492001",
                "75691.42776 01017.227800 01234.920013 7 70220000401124", "0012349-2"),
    _boleto2net(8, 700_00, date(2017, 3, 11), "75698709500000700001427701017227800000080001",
                "75691.42776 01017.227800 00000.800011 8 70950000070000", "0000008-0"),
    _boleto2net(5, 409_00, date(2016, 12, 8), "75699700200000409001427701017227800000058001",
                "75691.42776 01017.227800 00000.580019 9 70020000040900", "0000005-8"),
)  # fmt: skip


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.linha)
def test_published_boleto_is_reproduced(vector: Vector) -> None:
    config = _config(vector.cooperativa, vector.cliente)
    # Issued on its due date, so the overdue policy leaves date and amount alone.
    issued = issue_boleto(
        config, vector.sequence, vector.amount_cents, vector.due_date, vector.due_date
    )
    assert issued.linha_digitavel_formatted == vector.linha
    assert issued.barcode == (vector.barcode or linha_to_barcode(vector.linha))
    assert (issued.amount_cents, issued.due_date) == (vector.amount_cents, vector.due_date)
    if vector.nosso_numero is not None:
        assert issued.nosso_numero == vector.nosso_numero


def test_brcobranca_campo_livre_and_printed_nosso_numero() -> None:
    # Same case: the spec publishes the campo livre ("codigo_barras_segunda_parte").
    config = _config("4327", "229385")
    assert config.bank.campo_livre(config, 2) == "1432701022938500000024001"
    assert config.bank.nosso_numero(config, 2) == "0000002-4"


# --- (b) check digits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cooperativa", "cliente", "number", "dv"),
    [
        # The manual's own example (item 3.13): cooperativa 0001, cliente 1-9, nosso número 21.
        ("0001", "19", "21", 8),
        # brcobranca "Montar código de barras modalidade 05": cooperativa 4134, cliente 148180,
        # nosso número 110, whose campo livre carries 0000110 and DV 4.
        ("4134", "148180", "110", 4),
        # brcobranca "Montar nosso numero dv", cooperativa 4327, cliente 229385: 1..13. Numbers 7
        # and 11 leave remainder 0, which the manual turns into DV 0.
        *(
            ("4327", "229385", str(n), dv)
            for n, dv in enumerate((7, 4, 1, 9, 6, 3, 0, 8, 5, 3, 0, 8, 5), start=1)
        ),
        # boleto2net: cooperativa 4277, cliente 17227-8, nosso número 8 leaves remainder 1: DV 0.
        ("4277", "172278", "8", 0),
    ],
)
def test_nosso_numero_dv(cooperativa: str, cliente: str, number: str, dv: int) -> None:
    assert nosso_numero_dv(cooperativa, cliente, number) == dv


@pytest.mark.parametrize(
    ("cooperativa", "dv"),
    # From the manual's Contracapa: 2006 leaves remainder 0, 2001 remainder 1 and 1008
    # remainder 10; the first two print 0.
    [("0001", 9), ("4327", 3), ("3197", 6), ("4277", 3), ("2006", 0), ("2001", 0), ("1008", 1)],
)
def test_cooperativa_dv(cooperativa: str, dv: int) -> None:
    assert cooperativa_dv(cooperativa) == dv


def _independent_dv(cooperativa: str, cliente: str, number: str) -> int:
    """Item 3.13 spelled out again: 3197 aligned under the 21 digits from the left."""
    digits = f"{int(cooperativa):04d}{int(cliente):010d}{int(number):07d}"
    weights = "319731973197319731973"
    remainder = sum(int(d) * int(w) for d, w in zip(digits, weights, strict=True)) % 11
    return 0 if remainder in (0, 1) else 11 - remainder


# --- (c) configuration --------------------------------------------------------------------------


def _problems(**changes: str) -> dict[str, str]:
    with pytest.raises(InvalidBeneficiaryConfig) as refused:
        _config("4327", "229385", **changes)
    return {p.field: p.text for p in refused.value.problems}


def test_every_configuration_problem_is_reported_at_once() -> None:
    problems = _problems(
        carteira="3", codigo_beneficiario="", conta_dv="X", convenio="229385", posto="01"
    )
    assert sorted(problems) == ["carteira", "codigo_beneficiario", "conta_dv", "convenio", "posto"]
    assert "carteira must be 1" in problems["carteira"]
    assert "modalidade 01" in problems["carteira"]
    assert "código do cliente must have 1 to 7 digits" in problems["codigo_beneficiario"]
    assert "conta corrente DV must be one digit" in problems["conta_dv"]
    assert "codigo_beneficiario" in problems["convenio"]
    assert "no posto" in problems["posto"]


def test_codigo_do_cliente_fits_the_barcode() -> None:
    assert list(_problems(codigo_beneficiario="12345678")) == ["codigo_beneficiario"]
    config = _config("4327", "1")
    assert config.bank.campo_livre(config, 1)[7:14] == "0000001"


@pytest.mark.parametrize(("sequence", "message"), [(0, "1..9999999"), (10**7, "7 digits")])
def test_sequence_outside_the_nosso_numero(sequence: int, message: str) -> None:
    config = _config("4327", "229385")
    with pytest.raises(NossoNumeroOutOfRange, match=message):
        config.bank.campo_livre(config, sequence)


# --- (d) the remessa, field by field ------------------------------------------------------------

SICOOB = _config("4327", "229385")  # prefixo 4327-3, conta corrente 417270-5
GENERATED = datetime(2025, 7, 1, 13, 45, 0)
HEADER = RemessaHeader(SICOOB, 7, GENERATED)
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
    PayerAddress("Av. Brasil, 1000", "Jardim", "20040002", "Rio de Janeiro", "RJ"),
)


def _nosso(sequence: int) -> str:
    return SICOOB.bank.nosso_numero(SICOOB, sequence)


def _title(sequence: int, cents: int, payer: RemessaPayer = ACME, **changes: Any) -> RemessaTitle:
    title = RemessaTitle(
        nosso_numero=_nosso(sequence), document_number=str(sequence),
        due_date=date(2025, 8, 1), amount_cents=cents, issue_date=date(2025, 7, 1), payer=payer,
    )  # fmt: skip
    return title._replace(**changes)


TITLES = [
    # Sicoob asks for the due date as the multa's and the juros' date (R 67-74, P 119-126).
    _title(
        42, 12345, JOSE, due_date=date(2025, 7, 10), fine_percent=Decimal("2.00"),
        fine_date=date(2025, 7, 10), daily_interest_cents=4,
    ),
    _title(43, 100000),
]  # fmt: skip


FIELDS: dict[int, list[Field]] = {
    0: [
        (1, 3, "01.0 banco", "756"),
        (4, 7, "02.0 lote", "0000"),
        (8, 8, "03.0 registro", "0"),
        (9, 17, "04.0 CNAB", " " * 9),
        (18, 18, "05.0 tipo de inscrição", "2"),
        (19, 32, "06.0 CNPJ", CNPJ),
        (33, 52, "07.0 convênio: brancos", " " * 20),
        (53, 57, "08.0 prefixo da cooperativa", "04327"),
        (58, 58, "09.0 DV do prefixo", "3"),
        (59, 70, "10.0 conta corrente", "000000417270"),
        (71, 71, "11.0 DV da conta", "5"),
        (72, 72, "12.0 DV ag/conta: zeros", "0"),
        (73, 102, "13.0 nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
        (103, 132, "14.0 nome do banco", "SICOOB".ljust(30)),
        (133, 142, "15.0 CNAB", " " * 10),
        (143, 143, "16.0 remessa", "1"),
        (144, 151, "17.0 data de geração", "01072025"),
        (152, 157, "18.0 hora de geração", "134500"),
        (158, 163, "19.0 NSA", "000007"),
        (164, 166, "20.0 layout do arquivo", "081"),
        (167, 171, "21.0 densidade", "00000"),
        (172, 191, "22.0 reservado banco", " " * 20),
        (192, 211, "23.0 reservado empresa", " " * 20),
        (212, 240, "24.0 CNAB", " " * 29),
    ],
    1: [
        (1, 3, "01.1 banco", "756"),
        (4, 7, "02.1 lote", "0001"),
        (8, 8, "03.1 registro", "1"),
        (9, 9, "04.1 operação", "R"),
        (10, 11, "05.1 serviço", "01"),
        (12, 13, "06.1 CNAB", "  "),
        (14, 16, "07.1 layout do lote", "040"),
        (17, 17, "08.1 CNAB", " "),
        (18, 18, "09.1 tipo de inscrição", "2"),
        (19, 33, "10.1 CNPJ", "0" + CNPJ),
        (34, 53, "11.1 convênio: brancos", " " * 20),
        (54, 58, "12.1 prefixo da cooperativa", "04327"),
        (59, 59, "13.1 DV do prefixo", "3"),
        (60, 71, "14.1 conta corrente", "000000417270"),
        (72, 72, "15.1 DV da conta", "5"),
        (73, 73, "16.1 DV ag/conta: brancos", " "),
        (74, 103, "17.1 nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
        (104, 143, "18.1 mensagem 1", " " * 40),
        (144, 183, "19.1 mensagem 2", " " * 40),
        (184, 191, "20.1 número remessa", "00000007"),
        (192, 199, "21.1 data de gravação", "01072025"),
        (200, 207, "22.1 data do crédito", "00000000"),
        (208, 240, "23.1 CNAB", " " * 33),
    ],
    2: [
        *detail_start("756", 1, "P"),
        (18, 22, "08.3P prefixo da cooperativa", "04327"),
        (23, 23, "09.3P DV do prefixo", "3"),
        (24, 35, "10.3P conta corrente", "000000417270"),
        (36, 36, "11.3P DV da conta", "5"),
        (37, 37, "12.3P DV ag/conta", " "),
        (38, 47, "13.3P número do título: nosso número 0000042-9", "0000000429"),
        (48, 49, "13.3P parcela", "01"),
        (50, 51, "13.3P modalidade", "01"),
        (52, 52, "13.3P tipo formulário: A4 sem envelopamento", "4"),
        (53, 57, "13.3P em branco", " " * 5),
        (58, 58, "14.3P carteira", "1"),
        (59, 59, "15.3P forma de cadastramento", "0"),
        (60, 60, "16.3P tipo de documento", " "),
        (61, 61, "17.3P emissão: beneficiário", "2"),
        (62, 62, "18.3P distribuição: beneficiário", "2"),
        (63, 77, "19.3P número do documento", "42".ljust(15)),
        (78, 85, "20.3P vencimento", "10072025"),
        (86, 100, "21.3P valor do título", "000000000012345"),
        (101, 105, "22.3P agência cobradora", "00000"),
        (106, 106, "23.3P DV agência cobradora", " "),
        (107, 108, "24.3P espécie: DM", "02"),
        (109, 109, "25.3P aceite", "N"),
        (110, 117, "26.3P data de emissão", "01072025"),
        (118, 118, "27.3P juros: valor por dia", "1"),
        (119, 126, "28.3P data dos juros: o vencimento", "10072025"),
        (127, 141, "29.3P juros por dia", "000000000000004"),
        (142, 142, "30.3P desconto 1", "0"),
        (143, 150, "31.3P data do desconto 1", "0" * 8),
        (151, 165, "32.3P desconto 1", "0" * 15),
        (166, 180, "33.3P IOF", "0" * 15),
        (181, 195, "34.3P abatimento", "0" * 15),
        (196, 220, "35.3P uso da empresa", "42".ljust(25)),
        (221, 221, "36.3P não protestar", "3"),
        (222, 223, "37.3P prazo para protesto", "00"),
        (224, 224, "38.3P código para baixa", "0"),
        (225, 227, "39.3P prazo para baixa: brancos", "   "),
        (228, 229, "40.3P moeda: real", "09"),
        (230, 239, "41.3P contrato", "0" * 10),
        (240, 240, "42.3P CNAB", " "),
    ],
    3: [
        *detail_start("756", 2, "Q"),
        (18, 18, "08.3Q tipo de inscrição: CPF", "1"),
        (19, 33, "09.3Q CPF", "000052998224725"),
        (34, 73, "10.3Q nome", "JOSE ACAO DA CONCEICAO".ljust(40)),
        (74, 113, "11.3Q endereço", "RUA DAS FLORES, 12".ljust(40)),
        (114, 128, "12.3Q bairro", "CENTRO".ljust(15)),
        (129, 133, "13.3Q CEP", "01310"),
        (134, 136, "14.3Q sufixo do CEP", "100"),
        (137, 151, "15.3Q cidade", "SAO PAULO".ljust(15)),
        (152, 153, "16.3Q UF", "SP"),
        (154, 154, "17.3Q sacador/avalista: nenhum", "0"),
        (155, 169, "18.3Q inscrição do sacador", "0" * 15),
        (170, 209, "19.3Q nome do sacador", " " * 40),
        (210, 212, "20.3Q banco correspondente: nenhum", "000"),
        (213, 232, "21.3Q nosso nº no correspondente", " " * 20),
        (233, 240, "22.3Q CNAB", " " * 8),
    ],
    4: [
        *detail_start("756", 3, "R"),
        (18, 18, "08.3R desconto 2", "0"),
        (19, 26, "09.3R data do desconto 2", "0" * 8),
        (27, 41, "10.3R desconto 2", "0" * 15),
        (42, 42, "11.3R desconto 3", "0"),
        (43, 50, "12.3R data do desconto 3", "0" * 8),
        (51, 65, "13.3R desconto 3", "0" * 15),
        (66, 66, "14.3R multa: percentual", "2"),
        (67, 74, "15.3R data da multa: o vencimento", "10072025"),
        (75, 89, "16.3R multa 2,00 %", "000000000000200"),
        (90, 99, "17.3R informação ao pagador", " " * 10),
        (100, 139, "18.3R mensagem 3", " " * 40),
        (140, 179, "19.3R mensagem 4", " " * 40),
        (180, 199, "20.3R CNAB", " " * 20),
        (200, 207, "21.3R ocorrências do pagador", "0" * 8),
        (208, 210, "22.3R banco do débito", "000"),
        (211, 215, "23.3R agência do débito", "00000"),
        (216, 216, "24.3R DV da agência", " "),
        (217, 228, "25.3R conta do débito", "0" * 12),
        (229, 229, "26.3R DV da conta", " "),
        (230, 230, "27.3R DV ag/conta", " "),
        (231, 231, "28.3R aviso de débito", "0"),
        (232, 240, "29.3R CNAB", " " * 9),
    ],
    5: [
        (9, 13, "04.3P nº do registro", "00004"),
        (14, 17, "05.3P-07.3P", "P 01"),
        (38, 57, "13.3P nosso número 0000043-6", "0000000436" + "01014" + " " * 5),
        (86, 100, "21.3P valor do título", "000000000100000"),
        (118, 141, "27.3P-29.3P juros: isento", "0" * 24),
    ],
    6: [(18, 33, "08.3Q-09.3Q CNPJ", "2011444777000161")],
    7: [
        (1, 3, "01.5 banco", "756"),
        (4, 7, "02.5 lote", "0001"),
        (8, 8, "03.5 registro", "5"),
        (9, 17, "04.5 CNAB", " " * 9),
        (18, 23, "05.5 registros no lote", "000007"),
        (24, 29, "06.5 títulos em cobrança simples", "000002"),
        (30, 46, "07.5 valor em cobrança simples", "00000000000112345"),
        (47, 52, "08.5 títulos em cobrança vinculada", "0" * 6),
        (53, 69, "09.5 valor vinculada", "0" * 17),
        (70, 75, "10.5 títulos em cobrança caucionada", "0" * 6),
        (76, 92, "11.5 valor caucionada", "0" * 17),
        (93, 98, "12.5 títulos em cobrança descontada", "0" * 6),
        (99, 115, "13.5 valor descontada", "0" * 17),
        (116, 123, "14.5 aviso de lançamento", " " * 8),
        (124, 240, "15.5 CNAB", " " * 117),
    ],
    8: [
        (1, 3, "01.9 banco", "756"),
        (4, 7, "02.9 lote", "9999"),
        (8, 8, "03.9 registro", "9"),
        (9, 17, "04.9 CNAB", " " * 9),
        (18, 23, "05.9 lotes", "000001"),
        (24, 29, "06.9 registros", "000009"),
        (30, 35, "07.9 contas para conciliação", "000000"),
        (36, 240, "08.9 CNAB", " " * 205),
    ],
}
# Every field of these records is listed, so the tables must tile them whole.
COMPLETE = (0, 1, 2, 3, 4, 7, 8)


def test_every_field_is_at_its_layout_position() -> None:
    lines = remessa_lines(HEADER, TITLES)
    assert [line[7] + (line[13] if line[7] == "3" else "") for line in lines] == [
        "0", "1", "3P", "3Q", "3R", "3P", "3Q", "5", "9",
    ]  # fmt: skip
    assert_fields(lines, FIELDS)
    for index in COMPLETE:
        spans = [(start, end) for start, end, _, _ in FIELDS[index]]
        assert [s for s, _ in spans] == [1] + [e + 1 for _, e in spans[:-1]]
        assert spans[-1][1] == 240
    assert remessa_text(HEADER, TITLES) == "".join(line + "\r\n" for line in lines)


@pytest.mark.parametrize(
    ("movement", "code"),
    [
        (Movement.ENTRY, "01"),
        (Movement.WRITE_OFF, "02"),  # solicitação de baixa
        (Movement.REBATE, "04"),  # FEBRABAN's; the manual's remessa table has no abatimento
        (Movement.DUE_DATE, "06"),  # prorrogação de vencimento
    ],
)
def test_movement_codes(movement: Movement, code: str) -> None:
    rebate = 10 if movement is Movement.REBATE else 0
    lines = remessa_lines(HEADER, [_title(42, 100, movement=movement, rebate_cents=rebate)])
    assert {line[15:17] for line in lines[2:4]} == {code}


def test_the_multa_starts_on_the_due_date_by_default() -> None:
    title = TITLES[0]._replace(fine_date=None)
    assert remessa_lines(HEADER, [title])[4][66:74] == "10072025"  # 15.3R data da multa


def test_nosso_numero_must_verify_for_the_beneficiary() -> None:
    wrong_dv = _title(42, 100, nosso_numero="0000042-1")
    unprinted = _title(43, 100, nosso_numero="00000436")
    with pytest.raises(InvalidRemessa) as raised:
        remessa_lines(HEADER, [wrong_dv, unprinted])
    first, second = (p.text for p in raised.value.problems)
    assert "has DV 1, expected 9" in first and "código do cliente 229385" in first
    assert "printed NNNNNNN-D" in second


def test_a_typed_cooperativa_dv_must_agree() -> None:
    assert remessa_lines(RemessaHeader(SICOOB, 1, GENERATED, agencia_dv="3"), TITLES)[0][57] == "3"
    with pytest.raises(InvalidRemessa, match="cooperativa 4327 has DV 3, got '7'"):
        remessa_lines(RemessaHeader(SICOOB, 1, GENERATED, agencia_dv="7"), TITLES)


# A Sicoob remessa written by another implementation, kivanio/brcobranca (Ruby),
# spec/fixtures/remessa/remessa-bancoob-cnab240.rem at commit
# 325e0eae69ad298477b935a441a22c61c7556f31: test data only. Its beneficiary and title differ from
# ours, so only the ranges holding layout constants are compared. It leaves file header 72 blank
# where the manual asks a zero, so that position is not compared.
BRCOBRANCA_REMESSA = [
    (
        "75600000         274576177000177                    0432730000000036668 SOCIEDAD"
        "E BRASILEIRA DE ZOOLOGSICOOB                                  114072015161515000"
        "00008100000                                                                     "
    ),
    (
        "75600011R01  040 2074576177000177                    0432730000000036668 SOCIEDA"
        "DE BRASILEIRA DE ZOOLOG                                                         "
        "                       000000001407201500000000                                 "
    ),
    (
        "7560001300001P 010432730000000036668 000042971501014     10 22000000000006969140"
        "7201500000000000500000000 02N140720150000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000                     69691000   090000000000 "
    ),
]
SHARED_CONSTANTS = {
    0: [(1, 18), (33, 52), (103, 143), (164, 171), (172, 240)],
    1: [(1, 18), (34, 53), (73, 73), (104, 183), (200, 240)],
    2: [(1, 17), (37, 37), (48, 62), (101, 109), (222, 240)],
}


def test_layout_constants_agree_with_brcobranca_fixture() -> None:
    ours = remessa_lines(HEADER, TITLES[:1])
    assert [len(line) for line in BRCOBRANCA_REMESSA] == [240] * 3
    for index, ranges in SHARED_CONSTANTS.items():
        for start, end in ranges:
            theirs = BRCOBRANCA_REMESSA[index][start - 1 : end]
            assert ours[index][start - 1 : end] == theirs, (index, start, end)
    # Their cooperativa 4327 has the DV this module computes, and their nosso número block is
    # the número do título, parcela, modalidade and formulário as ours.
    theirs_p = BRCOBRANCA_REMESSA[2]
    assert theirs_p[17:23] == "043273"
    assert theirs_p[37:57] == "0000429715" + "01" + "01" + "4" + " " * 5


# --- (e) the retorno ----------------------------------------------------------------------------

ROUND_TRIP = [
    _title(seq, cents) for seq, cents in ((42, 12345), (43, 50000), (44, 700), (45, 9900))
]
# Positions 18-57 of a segment T for a nosso número this remessa never had: 9999999-8.
UNKNOWN_BLOCK = "0432730000004172705 " + "0099999998" + "01014" + " " * 5


def test_round_trip_remessa_retorno_occurrences() -> None:
    remessa = remessa_lines(HEADER, ROUND_TRIP)
    lines = retorno_for(
        remessa,
        {
            0: Paid(12400, date(2025, 7, 11), date(2025, 7, 14), fee_cents=250, interest_cents=55),
            1: Rejected(("08", "48")),
            2: Registered(fee_cents=180),
            3: WrittenOff(date(2025, 9, 2), fee_cents=90),
        },
        unknown=[UNKNOWN_BLOCK],
    )
    result = parse_retorno("\r\n".join(lines) + "\r\n")
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == ("756", 7, date(2025, 7, 1))
    paid, rejected, registered, written_off, unknown = result.occurrences
    assert (paid.nosso_numero, paid.outcome, paid.description) == (
        "0000042-9", Outcome.PAID, "Liquidação"
    )  # fmt: skip
    assert (paid.paid_cents, paid.credited_cents, paid.interest_cents, paid.fee_cents) == (
        12400, 12150, 55, 250
    )  # fmt: skip
    assert (paid.occurrence_date, paid.credit_date, paid.document_number) == (
        date(2025, 7, 11), date(2025, 7, 14), "42"
    )  # fmt: skip
    assert (rejected.nosso_numero, rejected.outcome) == ("0000043-6", Outcome.REJECTED)
    assert rejected.reasons == (
        Reason("08", "Nosso número inválido"),
        Reason("48", "CEP inválido"),
    )
    assert (registered.nosso_numero, registered.outcome, registered.fee_cents) == (
        "0000044-3", Outcome.REGISTERED, 180
    )  # fmt: skip
    assert (written_off.nosso_numero, written_off.outcome) == ("0000045-0", Outcome.WRITTEN_OFF)
    assert written_off.occurrence_date == date(2025, 9, 2)
    assert (unknown.nosso_numero, unknown.outcome) == ("9999999-8", Outcome.PAID)
    issued = {t.nosso_numero for t in ROUND_TRIP}
    assert [o.nosso_numero in issued for o in result.occurrences] == [True] * 4 + [False]


def test_instruction_outcomes() -> None:
    remessa = remessa_lines(HEADER, ROUND_TRIP)
    registered = retorno_for(remessa, {0: Registered()})[2:4]
    details = [
        *with_code(registered, 0, "14"),
        *with_code(registered, 0, "12"),
        *with_code(registered, 0, "26", "6036"),
        *with_code(registered, 0, "30", "16"),
        *with_code(registered, 0, "17"),
        *with_code(registered, 0, "25"),
        *with_code(registered, 0, "50"),
    ]
    result = parse_retorno(envelope(remessa, details))
    assert (result.unmatched, result.errors) == ((), ())
    got = [(o.code, o.outcome, o.reasons) for o in result.occurrences]
    assert got == [
        ("14", Outcome.DUE_DATE_CHANGED, ()),
        ("12", Outcome.REBATE_GRANTED, ()),
        (
            "26", Outcome.INSTRUCTION_REJECTED,
            (Reason("60", "Movimento para título não cadastrado"),
             Reason("36", "Já existe abatimento concedido para o título")),
        ),
        ("30", Outcome.INSTRUCTION_REJECTED, (Reason("16", "Data de vencimento inválida"),)),
        ("17", Outcome.PAID, ()),
        ("25", Outcome.WRITTEN_OFF, ()),
        ("50", Outcome.OTHER, ()),
    ]  # fmt: skip
    assert result.occurrences[-1].description == "Título pago com cheque pendente de compensação"


def test_simulated_bank_day() -> None:
    day = BankDay(paid={0: None, 2: 650}, rejected={1: ("63",)}, unknown=["9999999-8"])
    result = parse_retorno(simulate(remessa_text(HEADER, ROUND_TRIP), day))
    assert (result.unmatched, result.errors) == ((), ())
    got = [(o.nosso_numero, o.outcome, o.paid_cents) for o in result.occurrences]
    assert got == [
        ("0000042-9", Outcome.REGISTERED, 0),
        ("0000042-9", Outcome.PAID, 12345),
        ("0000043-6", Outcome.REJECTED, 0),
        ("0000044-3", Outcome.REGISTERED, 0),
        ("0000044-3", Outcome.PAID, 650),
        ("0000045-0", Outcome.REGISTERED, 0),
        ("9999999-8", Outcome.PAID, 12345),
    ]
    assert result.occurrences[2].reasons == (Reason("63", "Entrada de título já cadastrado"),)


def test_a_boleto_numbered_by_sicoob_has_no_nosso_numero_here() -> None:
    # Segment T 38-57 is blank when Sicoob, not the beneficiary, issues the boleto.
    t = "7560001300001T 02" + "0432730000004172705 " + " " * 20 + "1" + " " * 182
    assert cnab_bank_for("756").retorno_nosso_numero(t) == ""


# Two titles of a Sicoob retorno published by openboleto/OpenCnabPHP (PHP),
# samples/sicoob-example.ret at commit 65b972d09dcba021f5cbe53ff12421dacf26015c, lines 3-4 and
# 9-10: test data only. Its header gives file layout 085 and lot layout 043 where the manual
# prints 081 and 044.
OPENCNAB_PAIRS = [
    (
        "7560001300001T 1104280000000000737680000000501801014     150             1012201"
        "8000000000000600756042800501                      091000007261289288BRENO DOUGLA"
        "S                           00000000000000000000000000000000000                 "
    ),
    (
        "7560001300002U 11000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000001112201800000000    000"
        "00000000000000000000                              75600000000000000000000       "
    ),
    (
        "7560001300007T 0304280000000000737680000000050002014     150             1212201"
        "800000000000040075604280050                       091000007261289288BRENO DOUGLA"
        "S                           00000000000000000000000000000000009                 "
    ),
    (
        "7560001300008U 03000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000001112201800000000    000"
        "00000000000000000000                              75600000000000000000000       "
    ),
]
# The first title of a Sicoob retorno in kivanio/brcobranca (Ruby), spec/arquivos/CNAB240SICOOB.RET
# at commit 325e0eae69ad298477b935a441a22c61c7556f31: test data only. The repository stores its
# lines with trailing blanks trimmed; they are padded back to 240 here.
BRCOBRANCA_PAIR = [
    (
        "7560001300001T 0603039000000004898160000000008301011     10000000000000011308201"
        "500000000000020075603039000000000000000000000000000920039977830001182A MATERIAIS"
        " ELETRICOS                  00000000000000000000001700000000003"
    ),
    (
        "7560001300002U 06000000000000000000000000000000000000000000000000000000000000000"
        "0000000002000000000000002000000000000000000000000000000001008201510082015    000"
        "00000000000000000000                              75600000000000000000000"
    ),
]


def test_published_sample_lines() -> None:
    details = [line.ljust(240) for line in OPENCNAB_PAIRS + BRCOBRANCA_PAIR]
    assert all(len(line) == 240 for line in details)
    result = parse_retorno(envelope(remessa_lines(HEADER, TITLES), details))
    assert (result.unmatched, result.errors) == ((), ())
    em_ser, rejected, paid = result.occurrences
    assert (em_ser.nosso_numero, em_ser.outcome, em_ser.description) == (
        "0000501-8", Outcome.OTHER, "Título em carteira (em ser)"
    )  # fmt: skip
    assert (em_ser.document_number, em_ser.due_date, em_ser.face_value_cents) == (
        "50", date(2018, 12, 10), 600
    )  # fmt: skip
    assert (rejected.nosso_numero, rejected.outcome) == ("0000050-0", Outcome.REJECTED)
    assert rejected.reasons == (Reason("09", "Nosso número duplicado"),)
    assert (paid.nosso_numero, paid.outcome, paid.document_number) == (
        "0000008-3", Outcome.PAID, "000000000000001"
    )  # fmt: skip
    assert (paid.face_value_cents, paid.paid_cents, paid.credited_cents, paid.fee_cents) == (
        200, 200, 200, 170
    )  # fmt: skip
    # A liquidação's motivo (03) tells how it was paid: no rejection text for it.
    assert paid.reasons == (Reason("03", ""),)
    assert (paid.occurrence_date, paid.credit_date) == (date(2015, 8, 10), date(2015, 8, 10))


# --- (f) properties -----------------------------------------------------------------------------

_digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@given(
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.text(alphabet="0123456789", min_size=1, max_size=7),
    st.integers(1, 9_999_999),
    st.integers(1, 10**8),
)
def test_campo_livre_round_trips_and_the_dv_verifies(
    cooperativa: str, cliente: str, sequence: int, cents: int
) -> None:
    config = _config(cooperativa, cliente)
    due = date(2026, 3, 2)
    issued = issue_boleto(config, sequence, cents, due, due)
    livre = config.bank.campo_livre(config, sequence)
    assert linha_to_barcode(issued.linha_digitavel_formatted) == issued.barcode
    assert parse_barcode(issued.barcode).campo_livre == livre
    number, dv = livre[14:21], livre[21]
    assert livre == f"1{cooperativa}01{int(cliente):07d}{sequence:07d}{dv}001"
    assert int(dv) == _independent_dv(cooperativa, cliente, number)
    assert issued.nosso_numero == f"{number}-{dv}"
    # The remessa accepts it, and the retorno spells it back as the boleto prints it.
    cnab = cnab_bank_for("756")
    header = RemessaHeader(config, 1, GENERATED)
    assert cnab.nosso_numero_problem(header, issued.nosso_numero) is None
    segment_t = "7560001300001T 02" + cnab.title_block(header, issued.nosso_numero) + " " * 178
    assert cnab.retorno_nosso_numero(segment_t) == issued.nosso_numero


@given(st.integers(1, 9_999_999), st.integers(0, 20), _digits)
def test_a_changed_nosso_numero_digit_is_caught(sequence: int, index: int, digit: str) -> None:
    digits = f"4327{229385:010d}{sequence:07d}"
    changed = digits[:index] + digit + digits[index + 1 :]
    if changed == digits:
        return
    dv = nosso_numero_dv(digits[:4], digits[4:14], digits[14:])
    changed_dv = nosso_numero_dv(changed[:4], changed[4:14], changed[14:])
    # Weights 3, 1, 9 and 7 are all prime to 11, so one changed digit always moves the remainder;
    # only the two remainders that both print 0 can hide it.
    if changed_dv == dv:
        remainders = {
            sum(int(d) * w for d, w in zip(text, cycle((3, 1, 9, 7)))) % 11
            for text in (digits, changed)
        }
        assert remainders == {0, 1}
