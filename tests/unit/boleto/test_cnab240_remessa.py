"""CNAB 240 remessa, field by field against the banks' layout tables.

Positions are 1-based and inclusive as in the manuals: BB "Particularidades BB - Leiaute CNAB 240"
(Agosto/2017) and Itaú "Cobrança Bancária - Layout de Arquivos FEBRABAN 240" (Janeiro/2017).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.cnab240 import (
    InvalidRemessa,
    Movement,
    PayerAddress,
    PayerIdKind,
    RemessaHeader,
    RemessaPayer,
    RemessaTitle,
    remessa_lines,
    remessa_text,
)
from boleto_service.domain.cnab240.banks import cnab_bank_for
from boleto_service.domain.cnab240.remessa import _Details

BB = BeneficiaryConfig(
    name="Cobranças São João Ltda",
    cnpj="11222333000181",
    bank_code="001",
    agencia="1234",
    conta="56789",
    conta_dv="0",
    convenio="1234567",
    carteira="17",
)
ITAU = BeneficiaryConfig(
    name="Cobranças São João Ltda",
    cnpj="11222333000181",
    bank_code="341",
    agencia="0057",
    conta="72192",
    conta_dv="0",  # modulo 10 of 005772192
    carteira="109",
)
GENERATED = datetime(2025, 7, 1, 13, 45, 0)
BB_HEADER = RemessaHeader(BB, 7, GENERATED, agencia_dv="3", variacao_carteira="19")
ITAU_HEADER = RemessaHeader(ITAU, 7, GENERATED)

# Longer than segment Q's fields, with accents the file keeps and the layout folds.
JOSE_ADDRESS = PayerAddress(
    "Avenida Brigadeiro Faria Lima, 1811 conjunto 1407", "Jardim Paulistano", "01452001",
    "São José dos Campos", "SP",
)  # fmt: skip
JOSE = RemessaPayer("José Ação da Conceição", PayerIdKind.CPF, "52998224725", JOSE_ADDRESS)
ACME = RemessaPayer(
    "Empresa Ltda",
    PayerIdKind.CNPJ,
    "11444777000161",
    PayerAddress("Rua das Flores, 12", "Centro", "01310100", "São Paulo", "SP"),
)


def _titles(nosso_numeros: tuple[str, str]) -> list[RemessaTitle]:
    return [
        RemessaTitle(
            nosso_numero=nosso_numeros[0],
            document_number="42",
            due_date=date(2025, 7, 10),
            amount_cents=12345,
            issue_date=date(2025, 7, 1),
            payer=JOSE,
            fine_percent=Decimal("2.00"),
            daily_interest_cents=4,
        ),
        RemessaTitle(
            nosso_numero=nosso_numeros[1],
            document_number="43",
            due_date=date(2025, 8, 1),
            amount_cents=100000,
            issue_date=date(2025, 7, 1),
            payer=ACME,
        ),
    ]


BB_TITLES = _titles(("12345670000000042", "12345670000000043"))
# DACs: modulo 10 of agência + conta + carteira + nosso número, Itaú's note 27.
ITAU_TITLES = _titles(("109/00000042-8", "109/00000043-6"))

Field = tuple[int, int, str, str]  # start, end, FEBRABAN field, expected

FILE_HEADER_COMMON: list[Field] = [
    (1, 3, "código do banco", ""),
    (4, 7, "lote de serviço", "0000"),
    (8, 8, "tipo de registro", "0"),
    (9, 17, "uso FEBRABAN", " " * 9),
    (18, 18, "tipo de inscrição da empresa", "2"),
    (19, 32, "CNPJ", "11222333000181"),
    (73, 102, "nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
    (133, 142, "uso FEBRABAN", " " * 10),
    (143, 143, "código remessa", "1"),
    (144, 151, "data de geração", "01072025"),
    (152, 157, "hora de geração", "134500"),
    (158, 163, "NSA", "000007"),
    (167, 171, "densidade", "00000"),
]
LOT_HEADER_COMMON: list[Field] = [
    (4, 7, "lote", "0001"),
    (8, 8, "tipo de registro", "1"),
    (9, 9, "operação", "R"),
    (10, 11, "serviço", "01"),
    (17, 17, "uso FEBRABAN", " "),
    (18, 18, "tipo de inscrição", "2"),
    (19, 33, "CNPJ", "011222333000181"),
    (74, 103, "nome da empresa", "COBRANCAS SAO JOAO LTDA".ljust(30)),
    (104, 183, "mensagens 1 e 2", " " * 80),
    (184, 191, "número remessa", "00000007"),
    (192, 199, "data de gravação", "01072025"),
    (200, 207, "data do crédito", "00000000"),
    (208, 240, "uso FEBRABAN", " " * 33),
]
P_COMMON: list[Field] = [
    (4, 7, "lote", "0001"),
    (8, 8, "tipo de registro", "3"),
    (9, 13, "nº do registro", "00001"),
    (14, 14, "segmento", "P"),
    (16, 17, "movimento", "01"),
    (78, 85, "vencimento", "10072025"),
    (86, 100, "valor nominal", "000000000012345"),
    (101, 105, "agência cobradora", "00000"),
    (109, 109, "aceite", "N"),
    (110, 117, "data de emissão", "01072025"),
    (119, 126, "data juros", "10072025"),
    (127, 141, "juros por dia", "000000000000004"),
    (142, 142, "código desconto", "0"),
    (143, 195, "desconto, IOF, abatimento", "0" * 53),
    (196, 220, "uso da empresa", "42".ljust(25)),
    (221, 221, "código protesto", "3"),
    (222, 223, "dias protesto", "00"),
]
Q_COMMON: list[Field] = [
    (9, 13, "nº do registro", "00002"),
    (14, 14, "segmento", "Q"),
    (16, 17, "movimento", "01"),
    (18, 18, "tipo de inscrição do pagador", "1"),
    (19, 33, "CPF", "000052998224725"),
    (74, 113, "endereço", "AVENIDA BRIGADEIRO FARIA LIMA, 1811 CONJ"),
    (114, 128, "bairro", "JARDIM PAULISTA"),
    (129, 136, "CEP e sufixo", "01452001"),
    (137, 151, "cidade", "SAO JOSE DOS CA"),
    (152, 153, "UF", "SP"),
    (154, 169, "sacador/avalista", "0" * 16),
    (170, 209, "nome do sacador", " " * 40),
    (210, 212, "banco correspondente", "000"),
    (213, 240, "nosso nº correspondente e uso FEBRABAN", " " * 28),
]
R_COMMON: list[Field] = [
    (9, 13, "nº do registro", "00003"),
    (14, 14, "segmento", "R"),
    (16, 17, "movimento", "01"),
    (18, 65, "descontos 2 e 3", "0" * 48),
    (66, 66, "código da multa: percentual", "2"),
    (67, 74, "data da multa", "11072025"),
    (75, 89, "multa 2,00 %", "000000000000200"),
    (90, 199, "informação e mensagens", " " * 110),
]
FILE_TRAILER_COMMON: list[Field] = [
    (4, 7, "lote", "9999"),
    (8, 8, "tipo de registro", "9"),
    (9, 17, "uso FEBRABAN", " " * 9),
    (18, 23, "quantidade de lotes", "000001"),
    # header, lot header, P Q R, P Q, lot trailer, trailer
    (24, 29, "quantidade de registros", "000009"),
    (30, 35, "contas p/ conciliação", "000000"),
    (36, 240, "uso FEBRABAN", " " * 205),
]

BB_FIELDS: dict[int, list[Field]] = {
    0: [
        *FILE_HEADER_COMMON,
        (33, 41, "BB1 convênio", "001234567"),
        (42, 45, "BB2 cobrança cedente", "0014"),
        (46, 47, "BB3 carteira", "17"),
        (48, 50, "BB4 variação", "019"),
        (51, 52, "BB5 reservado", "  "),
        (53, 57, "agência", "01234"),
        (58, 58, "DV agência", "3"),
        (59, 70, "conta", "000000056789"),
        (71, 71, "DV conta", "0"),
        (72, 72, "DV ag/conta", " "),
        (103, 132, "nome do banco", "BANCO DO BRASIL S.A.".ljust(30)),
        (164, 166, "versão do layout", "083"),
        (172, 240, "reservado e uso FEBRABAN", " " * 69),
    ],
    1: [
        *LOT_HEADER_COMMON,
        (12, 13, "uso FEBRABAN", "  "),
        (14, 16, "versão do lote", "042"),
        (34, 42, "BB1 convênio", "001234567"),
        (43, 46, "BB2", "0014"),
        (47, 48, "BB3 carteira", "17"),
        (49, 51, "BB4 variação", "019"),
        (52, 53, "BB5 teste", "  "),
        (54, 58, "agência", "01234"),
        (59, 59, "DV agência", "3"),
        (60, 71, "conta", "000000056789"),
        (72, 72, "DV conta", "0"),
        (73, 73, "DV ag/conta", " "),
    ],
    2: [
        *P_COMMON,
        (18, 22, "agência", "01234"),
        (23, 23, "DV agência", "3"),
        (24, 35, "conta", "000000056789"),
        (36, 36, "DV conta", "0"),
        (37, 37, "DV ag/conta", " "),
        (38, 57, "nosso número, à esquerda", "12345670000000042   "),
        (58, 58, "carteira 17 simples", "7"),
        (59, 62, "cadastramento, documento, emissão, distribuição", "1122"),
        (63, 77, "número do documento", "42".ljust(15)),
        (106, 106, "DV agência cobradora", " "),
        (107, 108, "espécie: duplicata mercantil", "02"),
        (118, 118, "código juros: valor por dia", "1"),
        (224, 227, "baixa", "0000"),
        (228, 229, "moeda", "09"),
        (230, 239, "contrato", "0" * 10),
        (240, 240, "pagamento parcial", " "),
    ],
    3: [*Q_COMMON, (34, 73, "nome do pagador", "JOSE ACAO DA CONCEICAO".ljust(40))],
    4: R_COMMON,
    7: [
        (4, 7, "lote", "0001"),
        (8, 8, "tipo de registro", "5"),
        (18, 23, "registros no lote", "000007"),
        (24, 240, "uso FEBRABAN", " " * 217),
    ],
    8: FILE_TRAILER_COMMON,
}

ITAU_FIELDS: dict[int, list[Field]] = {
    0: [
        *FILE_HEADER_COMMON,
        (33, 52, "brancos", " " * 20),
        (53, 53, "zero", "0"),
        (54, 57, "agência", "0057"),
        (58, 58, "branco", " "),
        (59, 65, "zeros", "0000000"),
        (66, 70, "conta", "72192"),
        (71, 71, "branco", " "),
        (72, 72, "DAC", "0"),
        (103, 132, "nome do banco", "BANCO ITAU SA".ljust(30)),
        (164, 166, "versão do layout", "040"),
        (172, 225, "brancos", " " * 54),
        (226, 228, "zeros", "000"),
        (229, 240, "brancos", " " * 12),
    ],
    1: [
        *LOT_HEADER_COMMON,
        (12, 13, "zeros", "00"),
        (14, 16, "versão do lote", "030"),
        (34, 53, "brancos", " " * 20),
        (54, 54, "zero", "0"),
        (55, 58, "agência", "0057"),
        (59, 59, "branco", " "),
        (60, 66, "zeros", "0000000"),
        (67, 71, "conta", "72192"),
        (72, 72, "branco", " "),
        (73, 73, "DAC", "0"),
    ],
    2: [
        *P_COMMON,
        (18, 18, "zero", "0"),
        (19, 22, "agência", "0057"),
        (23, 23, "branco", " "),
        (24, 30, "zeros", "0000000"),
        (31, 35, "conta", "72192"),
        (36, 36, "branco", " "),
        (37, 37, "DAC", "0"),
        (38, 40, "carteira", "109"),
        (41, 48, "nosso número", "00000042"),
        (49, 49, "DAC nosso número", "8"),
        (50, 57, "brancos", " " * 8),
        (58, 62, "zeros", "00000"),
        (63, 72, "nº do documento", "42".ljust(10)),
        (73, 77, "brancos", " " * 5),
        (106, 106, "DAC agência cobradora", "0"),
        (107, 108, "espécie: duplicata mercantil", "01"),
        (118, 118, "zeros", "0"),
        (224, 224, "código baixa", "0"),
        (225, 226, "prazo baixa", "00"),
        (227, 239, "zeros", "0" * 13),
        (240, 240, "branco", " "),
    ],
    3: [
        *Q_COMMON,
        (34, 63, "nome do pagador", "JOSE ACAO DA CONCEICAO".ljust(30)),
        (64, 73, "brancos", " " * 10),
    ],
    4: R_COMMON,
    7: [
        (4, 7, "lote", "0001"),
        (8, 8, "tipo de registro", "5"),
        (18, 23, "registros no lote", "000007"),
        (24, 29, "títulos em cobrança simples", "000002"),
        (30, 46, "valor em cobrança simples", "00000000000112345"),
        (47, 115, "vinculada e zeros", "0" * 69),
        (116, 123, "aviso bancário", " " * 8),
        (124, 240, "brancos", " " * 117),
    ],
    8: FILE_TRAILER_COMMON,
}

CASES = [
    pytest.param(BB_HEADER, BB_TITLES, BB_FIELDS, "001", id="bb"),
    pytest.param(ITAU_HEADER, ITAU_TITLES, ITAU_FIELDS, "341", id="itau"),
]


@pytest.mark.parametrize(("header", "titles", "table", "bank"), CASES)
def test_every_field_is_at_its_layout_position(
    header: RemessaHeader, titles: list[RemessaTitle], table: dict[int, list[Field]], bank: str
) -> None:
    lines = remessa_lines(header, titles)
    for index, fields in table.items():
        for start, end, name, expected in fields:
            got = lines[index][start - 1 : end]
            assert got == (expected or bank), f"line {index + 1} {start}-{end} {name}: {got!r}"


@pytest.mark.parametrize(("header", "titles", "table", "bank"), CASES)
def test_records_are_240_ascii_one_per_segment(
    header: RemessaHeader, titles: list[RemessaTitle], table: dict[int, list[Field]], bank: str
) -> None:
    lines = remessa_lines(header, titles)
    assert all(len(line) == 240 and line.isascii() for line in lines)
    assert all(line[:3] == bank for line in lines)
    kinds = [line[7] + (line[13] if line[7] == "3" else "") for line in lines]
    assert kinds == ["0", "1", "3P", "3Q", "3R", "3P", "3Q", "5", "9"]
    details = [line for line in lines if line[7] == "3"]
    assert [int(line[8:13]) for line in details] == [1, 2, 3, 4, 5]
    text = remessa_text(header, titles)
    assert text == "\r\n".join(lines) + "\r\n"


# Segment P of the second title with a discount and an abatimento (FEBRABAN C021-C024, G045).
DEDUCTION_FIELDS: list[Field] = [
    (142, 142, "código do desconto 1: valor fixo até a data informada", "1"),
    (143, 150, "data do desconto 1", "25072025"),
    (151, 165, "valor do desconto 1", "000000000001500"),
    (166, 180, "IOF", "0" * 15),
    (181, 195, "valor do abatimento", "000000000000700"),
]


@pytest.mark.parametrize(("header", "titles"), [(BB_HEADER, BB_TITLES), (ITAU_HEADER, ITAU_TITLES)])
def test_discount_and_rebate_are_written_in_segment_p(
    header: RemessaHeader, titles: list[RemessaTitle]
) -> None:
    title = titles[1]._replace(
        discount_cents=1500, discount_until=date(2025, 7, 25), rebate_cents=700
    )
    p = remessa_lines(header, [title])[2]
    for start, end, name, expected in DEDUCTION_FIELDS:
        assert p[start - 1 : end] == expected, f"{start}-{end} {name}: {p[start - 1 : end]!r}"


@pytest.mark.parametrize(("header", "titles"), [(BB_HEADER, BB_TITLES), (ITAU_HEADER, ITAU_TITLES)])
def test_a_plain_entry_is_written_as_any_title_with_its_zeros(
    header: RemessaHeader, titles: list[RemessaTitle]
) -> None:
    segments = _Details(cnab_bank_for(header.beneficiary.bank_code), header)
    plain = titles[0]._replace(daily_interest_cents=0, fine_percent=None)
    # The plain template's fixed slots are what the full one fills in for those zeros.
    assert segments.segment_p(plain, 3) == segments.p.fill(segments.p_values(plain, 3))


def test_a_rebate_movement_carries_its_amount() -> None:
    title = BB_TITLES[1]._replace(movement=Movement.REBATE, rebate_cents=2500)
    p, q = remessa_lines(BB_HEADER, [title])[2:4]
    assert (p[15:17], q[15:17], p[180:195]) == ("04", "04", "000000000002500")
    # Nothing else of the title changes: no discount, and the same face value.
    assert (p[141:165], p[85:100]) == ("0" * 24, "000000000100000")


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"movement": Movement.REBATE}, "rebate_cents", "needs the amount to grant"),
        ({"rebate_cents": 100000}, "rebate_cents", "is not less than the title's 100000"),
        ({"rebate_cents": -1}, "rebate_cents", "non-negative"),
        ({"discount_cents": 500}, "discount_until", "the last day it applies"),
        ({"discount_until": date(2025, 7, 20)}, "discount_until", "there is no discount"),
        ({"discount_cents": 500, "discount_until": date(2025, 8, 2)}, "discount_until",
         "from the issue date to the due date"),
        ({"discount_cents": 100000, "discount_until": date(2025, 7, 20)}, "discount_cents",
         "is not less than"),
    ],
)  # fmt: skip
def test_deductions_a_bank_would_refuse(changes: dict[str, object], field: str, text: str) -> None:
    title = BB_TITLES[1]._replace(**changes)  # type: ignore[arg-type]
    with pytest.raises(InvalidRemessa) as raised:
        remessa_lines(BB_HEADER, [title])
    assert [(p.field, text in p.text) for p in raised.value.problems] == [(field, True)]


def test_second_title_segments_carry_the_cnpj_payer_and_address() -> None:
    p, q = remessa_lines(BB_HEADER, BB_TITLES)[5:7]
    assert p[37:57] == "12345670000000043   "
    assert p[85:100] == "000000000100000"
    # No interest: BB's code 3 (isento), date and value zero.
    assert p[117:141] == "3" + "0" * 23
    assert q[17:33] == "2011444777000161"
    assert q[73:153] == (
        "RUA DAS FLORES, 12".ljust(40)
        + "CENTRO".ljust(15)
        + "01310100"
        + "SAO PAULO".ljust(15)
        + "SP"
    )


def test_itau_lot_totals_sum_every_title() -> None:
    titles = [*ITAU_TITLES]
    titles.append(RemessaTitle("109/00000099-8", "99", date(2025, 9, 1), 1, date(2025, 7, 1), JOSE))
    lines = remessa_lines(ITAU_HEADER, titles)
    trailer = lines[-2]
    assert trailer[17:23] == "000009"
    assert trailer[23:29] == "000003"
    assert int(trailer[29:46]) == 12345 + 100000 + 1
    assert lines[-1][23:29] == "000011"


def test_bb_test_file_marks_only_the_lot_header() -> None:
    header = RemessaHeader(
        BB, 1, GENERATED, agencia_dv="X", variacao_carteira="019", test_file=True
    )
    lines = remessa_lines(header, BB_TITLES[1:])
    assert lines[1][51:53] == "TS"
    assert lines[0][50:52] == "  "
    assert lines[0][57] == "X"


def test_names_are_folded_truncated_and_upper_case() -> None:
    payer = RemessaPayer(
        "Çãõ Ñandú Größe " + "x" * 60, PayerIdKind.CPF, "52998224725", JOSE_ADDRESS
    )
    title = RemessaTitle("12345670000000044", "44", date(2025, 7, 10), 500, date(2025, 7, 1), payer)
    q = remessa_lines(BB_HEADER, [title])[3]
    assert q[33:73] == ("CAO NANDU GRO E " + "X" * 60)[:40]


def test_every_problem_is_reported_at_once() -> None:
    bad = [
        RemessaTitle(
            "99999990000000001",
            "1234567890123456",
            date(2025, 7, 1),
            0,
            date(2025, 7, 2),
            RemessaPayer("", PayerIdKind.OTHER, "ABC", PayerAddress("R", "", "1234", "X", "SP")),
            fine_percent=Decimal("2.005"),
        ),
        BB_TITLES[0],
        BB_TITLES[0],
    ]
    header = RemessaHeader(BB, 0, GENERATED)
    with pytest.raises(InvalidRemessa) as raised:
        remessa_lines(header, bad)
    fields = sorted(p.field for p in raised.value.problems)
    assert fields == [
        "address",
        "agencia_dv",
        "amount_cents",
        "document_number",
        "fine_percent",
        "issue_date",
        "nosso_numero",
        "nosso_numero",
        "nsa",
        "payer",
        "payer",
        "variacao_carteira",
    ]


def test_itau_nosso_numero_must_match_the_account_and_carteira() -> None:
    wrong_dac = RemessaTitle("109/00000042-1", "42", date(2025, 7, 10), 1, date(2025, 7, 1), JOSE)
    wrong_carteira = RemessaTitle(
        "157/00000042-8", "4", date(2025, 7, 10), 1, date(2025, 7, 1), JOSE
    )
    with pytest.raises(InvalidRemessa) as raised:
        remessa_lines(ITAU_HEADER, [wrong_dac, wrong_carteira])
    texts = [p.text for p in raised.value.problems]
    assert "expected 8" in texts[0]
    assert "not of carteira 109" in texts[1]


def test_empty_remessa_is_refused() -> None:
    with pytest.raises(InvalidRemessa, match="at least one title"):
        remessa_lines(BB_HEADER, [])


# A BB remessa generated by another implementation, kivanio/brcobranca (Ruby),
# spec/fixtures/remessa/remessa-banco_brasil-cnab240.rem at commit
# 325e0eae69ad298477b935a441a22c61c7556f31: test data only. Its beneficiary, convênio and
# titles differ from ours, so only the positions holding layout constants are compared; where
# the two differ on purpose (bank name "SA" vs the manual's "S.A.", zeros vs blanks in fields BB
# says take either) nothing is compared.
BRCOBRANCA_BB_REMESSA = [
    (
        "00100000         100012345678901001234567001412123  0123430000000123455 SOCIEDAD"
        "E BRASILEIRA DE ZOOLOGBANCO DO BRASIL SA                      114072015161515000"
        "000083000000000000000000000000000000000000000000000                             "
    ),
    (
        "00100011R01  042 1000012345678901001234567001412123  0123430000000123455 SOCIEDA"
        "DE BRASILEIRA DE ZOOLOG                                                         "
        "                       000000001407201500000000                                 "
    ),
    (
        "0010001300001P 010123430000000123455 12345670000000123   71 00000000000006969140"
        "7201500000000001999000000 02N140720153000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000                     69693000000090000000000 "
    ),
    (
        "0010001300002Q 011000012345678901PABLO DIEGO JOSE FRANCISCO DE PAULA JUANRUA RIO"
        " GRANDE DO SUL SAO PAULO MINAS CASAO JOSE DOS QU12345678SANTA RITA DE CSP0000000"
        "000000000                                        000                            "
    ),
    (
        "0010001300003R 01000000000000000000000000000000000000000000000000000000000000000"
        "000000000                                                                       "
        "                                       0000000000000000 000000000000  0         "
    ),
    (
        "00100015         000005000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
    ),
    (
        "00199999         000001000007                                                   "
        "                                                                                "
        "                                                                                "
    ),
]
SHARED_CONSTANTS = {
    0: [(1, 17), (42, 45), (51, 52), (72, 72), (133, 143), (164, 171)],
    1: [(1, 17), (43, 46), (52, 53), (73, 73), (104, 183), (200, 240)],
    2: [(1, 17), (37, 37), (101, 109), (142, 195), (221, 240)],
    3: [(1, 17), (154, 240)],
    4: [(1, 65), (88, 240)],
    5: [(1, 23)],
    6: [(1, 29)],
}


def test_layout_constants_agree_with_brcobranca_fixture() -> None:
    ours = remessa_lines(BB_HEADER, BB_TITLES[:1])
    assert [len(line) for line in BRCOBRANCA_BB_REMESSA] == [240] * 7
    for index, ranges in SHARED_CONSTANTS.items():
        for start, end in ranges:
            theirs = BRCOBRANCA_BB_REMESSA[index][start - 1 : end]
            assert ours[index][start - 1 : end] == theirs, (index, start, end)
    # And their variable fields sit where our table puts them.
    header, p = BRCOBRANCA_BB_REMESSA[0], BRCOBRANCA_BB_REMESSA[2]
    assert (header[32:41], header[45:47], header[47:50]) == ("001234567", "12", "123")
    assert p[37:57] == "12345670000000123   "
    assert p[77:85] == "14072015"
