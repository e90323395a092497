"""Published boletos used as golden vectors, each with the place it was published.

Only the numbers are taken from those sources. Where a source printed the linha digitável with
two spaces between fields, it is written here with one; the digits are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

BRCOBRANCA_BB = "kivanio/brcobranca, spec/brcobranca/boleto/banco_brasil_spec.rb"
BRCOBRANCA_ITAU = "kivanio/brcobranca, spec/brcobranca/boleto/itau_spec.rb"
_STELLA_TESTS = "caelum/caelum-stella, stella-boleto/src/test/java/br/com/caelum/stella/boleto"
STELLA_BB = f"{_STELLA_TESTS}/bancos/BancoDoBrasilTest.java"
STELLA_ITAU = f"{_STELLA_TESTS}/bancos/ItauTest.java"
PYBOLETO_BB = "eduardocereto/pyboleto, tests/test_banco_do_brasil.py"
PYBOLETO_ITAU = "eduardocereto/pyboleto, tests/test_banco_itau.py"
BOLETO2NET_BB17 = "BoletoNet/boleto2net, Boleto2.Net.Testes/BancoBrasilCarteira17_019Tests.cs"
BOLETO2NET_ITAU109 = "BoletoNet/boleto2net, Boleto2.Net.Testes/BancoItauCarteira109Tests.cs"


@dataclass(frozen=True)
class BankVector:
    """A published boleto together with the beneficiary data it was built from."""

    source: str
    bank_code: str
    agencia: str
    conta: str
    conta_dv: str
    convenio: str
    carteira: str
    sequence: int
    amount_cents: int
    due_date: date
    barcode: str | None  # None where the source published only the linha digitável
    linha: str
    nosso_numero: str | None  # printed form, where the source published it


@dataclass(frozen=True)
class CodeVector:
    """A published barcode and linha digitável pair, used below the bank layer."""

    source: str
    barcode: str
    linha: str


def _bb17(seq: int, cents: int, due: date, barcode: str, linha: str) -> BankVector:
    # Agência 1234, conta 123456-X, convênio 1234567, carteira 17 (variação 019).
    return BankVector(
        BOLETO2NET_BB17, "001", "1234", "123456", "X", "1234567", "17", seq, cents, due,
        barcode, linha, f"123456700000000{seq:02d}",
    )  # fmt: skip


BANK_VECTORS: tuple[BankVector, ...] = (
    # "Montar código de barras para convenio de 7 digitos e nosso numero de 10".
    BankVector(
        BRCOBRANCA_BB, "001", "4042", "61900", "0", "1238798", "18", 7777700168, 135_00,
        date(2008, 2, 3), "00193377100000135000000001238798777770016818",
        "00190.00009 01238.798779 77700.168188 3 37710000013500", None,
    ),
    BankVector(
        BRCOBRANCA_BB, "001", "4042", "61900", "0", "1238798", "18", 7777700168, 723_56,
        date(2008, 2, 3), "00195377100000723560000001238798777770016818",
        "00190.00009 01238.798779 77700.168188 5 37710000072356", None,
    ),
    BankVector(
        BRCOBRANCA_BB, "001", "4042", "61900", "0", "1238798", "18", 7777700168, 723_56,
        date(2008, 2, 1), "00194376900000723560000001238798777770016818",
        "00190.00009 01238.798779 77700.168188 4 37690000072356", None,
    ),
    # setUp + testCodigoDeBarraDoBancoDoBrasil / testLinhaDoBancoDoBrasil.
    BankVector(
        STELLA_BB, "001", "1824", "76000", "5", "1207113", "18", 9000206, 40_00,
        date(2008, 5, 2), "00195386000000040000000001207113000900020618",
        "00190.00009 01207.113000 09000.206186 5 38600000004000", None,
    ),
    # The source gives no account check digit; this layout does not use it, so "0" stands in.
    BankVector(
        PYBOLETO_BB, "001", "9999", "99999", "0", "7777777", "18", 87654, 2952_95,
        date(2011, 3, 8), "00196490000002952950000007777777000008765418",
        "00190.00009 07777.777009 00087.654182 6 49000000295295", None,
    ),
    # Brasil_17_019_BoletoOK: one boleto per general check digit 1..9.
    _bb17(5, 400_00, date(2016, 11, 27), "00191699100000400000000001234567000000000517",
          "00190.00009 01234.567004 00000.005173 1 69910000040000"),
    _bb17(5, 402_00, date(2016, 11, 27), "00192699100000402000000001234567000000000517",
          "00190.00009 01234.567004 00000.005173 2 69910000040200"),
    _bb17(3, 200_00, date(2016, 9, 26), "00193692900000200000000001234567000000000317",
          "00190.00009 01234.567004 00000.003178 3 69290000020000"),
    _bb17(1, 1232_78, date(2016, 8, 17), "00194688900001232780000001234567000000000117",
          "00190.00009 01234.567004 00000.001172 4 68890000123278"),
    _bb17(9, 800_00, date(2017, 3, 19), "00195710300000800000000001234567000000000917",
          "00190.00009 01234.567004 00000.009175 5 71030000080000"),
    _bb17(4, 306_52, date(2016, 10, 26), "00196695900000306520000001234567000000000417",
          "00190.00009 01234.567004 00000.004176 6 69590000030652"),
    _bb17(4, 300_00, date(2016, 10, 26), "00197695900000300000000001234567000000000417",
          "00190.00009 01234.567004 00000.004176 7 69590000030000"),
    _bb17(7, 609_00, date(2017, 1, 27), "00198705200000609000000001234567000000000717",
          "00190.00009 01234.567004 00000.007179 8 70520000060900"),
    _bb17(7, 600_00, date(2017, 1, 27), "00199705200000600000000001234567000000000717",
          "00190.00009 01234.567004 00000.007179 9 70520000060000"),
    # "Gerar boleto", carteira 109 due 2029-05-20: a factor after the 2025 reset (2548).
    BankVector(
        BRCOBRANCA_ITAU, "341", "1248", "02124", "6", "", "109", 10152, 6757_87,
        date(2029, 5, 20), "34194254800006757871090001015271248021246000",
        "34191.09008 01015.271248 80212.460002 4 25480000675787", None,
    ),
    # "Gerar boleto", carteira 175.
    BankVector(
        BRCOBRANCA_ITAU, "341", "0810", "53678", "9", "", "175", 258281, 135_00,
        date(2008, 2, 2), "34191377000000135001750025828170810536789000",
        "34191.75009 25828.170818 05367.890000 1 37700000013500", None,
    ),
    # test_dv_nosso_numero gives the nosso número DAC 1 and test_dv_agencia_conta_cedente 0.
    BankVector(
        PYBOLETO_ITAU, "341", "0293", "01328", "0", "", "109", 157, 29_80,
        date(2009, 10, 19), "34199439500000029801090000015710293013280000",
        "34191.09008 00015.710296 30132.800001 9 43950000002980", "109/00000157-1",
    ),
    # setUp (nosso número 21897666, DAC 6) + testCodigoDeBarraDoBancoItau / testLinhaDoBancoItau.
    BankVector(
        STELLA_ITAU, "341", "0167", "45145", "9", "", "157", 21897666, 2680_16,
        date(2013, 4, 1), "34196565500002680161572189766660167451459000",
        "34191.57213 89766.660164 74514.590004 6 56550000268016", "157/21897666-6",
    ),
    # testLinhaDoBancoItau2 (nosso número 00015135, DAC 6); only the linha is published.
    BankVector(
        STELLA_ITAU, "341", "8462", "05825", "9", "", "174", 15135, 2680_16,
        date(2014, 4, 10), None,
        "34191.74002 01513.568467 20582.590004 6 60290000268016", "174/00015135-6",
    ),
)  # fmt: skip


CODE_VECTORS: tuple[CodeVector, ...] = (
    *(CodeVector(v.source, v.barcode, v.linha) for v in BANK_VECTORS if v.barcode),
    # Itaú carteira 175 with no amount; its general DV comes from remainder 0 (11 -> 1).
    CodeVector(
        BRCOBRANCA_ITAU,
        "34191432900000000001751234567840810536789000",
        "34191.75124 34567.840813 05367.890000 1 43290000000000",
    ),
    # Itaú carteira 196 (seu número layout); general DV from remainder 1 (10 -> 1).
    CodeVector(
        BRCOBRANCA_ITAU,
        "34191252500000135001960025828112345671234550",
        "34191.96005 25828.112349 56712.345505 1 25250000013500",
    ),
    # Banco do Brasil convênios of 6 and 4 digits (other campo livre layouts).
    CodeVector(
        BRCOBRANCA_BB,
        "00192376900000135001238790123440420006190018",
        "00191.23876 90123.440423 00061.900189 2 37690000013500",
    ),
    CodeVector(
        BRCOBRANCA_BB,
        "00191376900000135001238012345640420006190018",
        "00191.23801 12345.640424 00061.900189 1 37690000013500",
    ),
    # Itaú_109_BoletoOK. Its fixture pairs conta 56789 with DV 0 although the modulo 10 of
    # agência + conta is 7, so only the barcode/linha pairs are used. The first one's general DV
    # comes from remainder 1 (10 -> 1).
    CodeVector(
        BOLETO2NET_ITAU109,
        "34191719500000600001090022335021234567890000",
        "34191.09008 22335.021238 45678.900007 1 71950000060000",
    ),
    CodeVector(
        BOLETO2NET_ITAU109,
        "34194722500000200001090022334601234567890000",
        "34191.09008 22334.601238 45678.900007 4 72250000020000",
    ),
    CodeVector(
        BOLETO2NET_ITAU109,
        "34199725600000300001090022334781234567890000",
        "34191.09008 22334.781238 45678.900007 9 72560000030000",
    ),
)


def test_vector_set_covers_what_the_suite_relies_on() -> None:
    vectors: tuple[BankVector | CodeVector, ...] = (*BANK_VECTORS, *CODE_VECTORS)
    sources = {v.source.split(",")[0] for v in vectors}
    assert sources == {
        "kivanio/brcobranca",
        "caelum/caelum-stella",
        "eduardocereto/pyboleto",
        "BoletoNet/boleto2net",
    }
    assert any(v.due_date >= date(2025, 2, 22) for v in BANK_VECTORS)
    assert {v.barcode[4] for v in CODE_VECTORS} == set("123456789")
    for vector in CODE_VECTORS:
        assert len(vector.barcode) == 44
        assert len(vector.linha.replace(".", "").replace(" ", "")) == 47
