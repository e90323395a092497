"""CNAB 240 retorno: helper-built round trips, public sample files and malformed input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boleto_service.domain.boleto import Boleto, Payer, PayerAddress
from boleto_service.domain.cnab240 import (
    FileError,
    Occurrence,
    Outcome,
    Reason,
    RemessaHeader,
    Unmatched,
    cnab_bank_for,
    parse_retorno,
    remessa_lines,
    title_from_boleto,
)
from boleto_service.domain.issuing import issue_boleto
from boletos_cli.bank import Paid, Registered, Rejected, envelope, retorno_for

from .test_cnab240_remessa import BB, BB_HEADER, ITAU, ITAU_HEADER


def _amount(cents: int) -> str:
    return f"{cents:015d}"


def _boleto(config_sequence: int, bank: str, cents: int) -> Boleto:
    config = BB if bank == "001" else ITAU
    numbers = issue_boleto(config, config_sequence, cents, date(2025, 7, 10), date(2025, 7, 1))
    address = PayerAddress("Rua Sete de Setembro, 40", "Centro", "20050009", "Rio", "RJ")
    payer = Payer("Maria Conceição", "52998224725", 2, "maria@example.com", address)
    return Boleto("debt", "upload", 1, config_sequence, date(2025, 7, 1), payer, numbers)


def _occurrence(
    line: int, bank: str, nosso: str, doc: str, code: str, outcome: Outcome, **changes: Any
) -> Occurrence:
    base = Occurrence(
        line_number=line,
        bank_code=bank,
        nosso_numero=nosso,
        document_number=doc,
        code=code,
        outcome=outcome,
        description=cnab_bank_for(bank).describe(code),
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


@pytest.mark.parametrize(
    ("bank", "header", "nossos", "rejection", "unknown_block", "unknown_nosso"),
    [
        pytest.param(
            "001", BB_HEADER,
            ("12345670000000042", "12345670000000043", "12345670000000044"),
            (("08", "Nosso número inválido"), ("48", "CEP inválido")),
            "0123430000000567890 " + "12345679999999999   ", "12345679999999999",
            id="bb",
        ),
        pytest.param(
            "341", ITAU_HEADER,
            ("109/00000042-8", "109/00000043-6", "109/00000044-4"),
            (("10", "Logradouro não informado ou deslocado"),
             ("03", "Não foi possível atribuir a agência cobradora pelo CEP, ou CEP inválido")),
            "00057 000000072192 0" + "109999999991" + " " * 8, "109/99999999-1",
            id="itau",
        ),
    ],
)  # fmt: skip
def test_round_trip_remessa_retorno_occurrences(
    bank: str,
    header: RemessaHeader,
    nossos: tuple[str, str, str],
    rejection: tuple[tuple[str, str], ...],
    unknown_block: str,
    unknown_nosso: str,
) -> None:
    boletos = [_boleto(42, bank, 12345), _boleto(43, bank, 50000), _boleto(44, bank, 700)]
    titles = [title_from_boleto(b) for b in boletos]
    assert [t.nosso_numero for t in titles] == list(nossos)
    remessa = remessa_lines(header, titles)
    lines = retorno_for(
        remessa,
        {
            0: Paid(12400, date(2025, 7, 11), date(2025, 7, 14), fee_cents=250, interest_cents=55),
            1: Rejected(tuple(code for code, _ in rejection)),
            2: Registered(fee_cents=180),
        },
        unknown=[unknown_block],
    )
    result = parse_retorno("\r\n".join(lines) + "\r\n")
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == (bank, 7, date(2025, 7, 1))
    assert result.occurrences == (
        _occurrence(
            3, bank, nossos[0], "42", "06", Outcome.PAID,
            face_value_cents=12345, fee_cents=250, paid_cents=12400, credited_cents=12150,
            interest_cents=55, occurrence_date=date(2025, 7, 11), credit_date=date(2025, 7, 14),
        ),
        _occurrence(
            5, bank, nossos[1], "43", "03", Outcome.REJECTED,
            reasons=tuple(Reason(code, text) for code, text in rejection),
            face_value_cents=50000,
        ),
        _occurrence(
            7, bank, nossos[2], "44", "02", Outcome.REGISTERED, face_value_cents=700, fee_cents=180
        ),
        _occurrence(
            9, bank, unknown_nosso, "42", "06", Outcome.PAID,
            face_value_cents=12345, paid_cents=500, credited_cents=500,
            occurrence_date=date(2025, 7, 3), credit_date=date(2025, 7, 4),
        ),
    )  # fmt: skip
    issued = {t.nosso_numero for t in titles}
    assert [o.nosso_numero in issued for o in result.occurrences] == [True, True, True, False]


def _line(fields: Mapping[int, str]) -> str:
    """240 blanks with each text written from its 1-based start position."""
    chars = [" "] * 240
    for start, text in fields.items():
        chars[start - 1 : start - 1 + len(text)] = text
    return "".join(chars)


def test_hand_written_itau_rejection_and_write_off() -> None:
    # Itaú's segment T: nosso número 41-48 with its DAC at 49, four motivos at 214-221 and the
    # código de liquidação at 222-223, which must not be read as a fifth motivo.
    t = _line({1: "3410001300001T 03", 18: "00057000000000721920", 38: "109000000428",
               59: "42", 74: "10072025", 82: _amount(12345), 199: _amount(0),
               214: "08100000AA"})  # fmt: skip
    u = _line({1: "3410001300002U 03", 18: "0" * 135, 138: "0" * 16})
    t2 = _line({1: "3410001300003T 09", 38: "109000000436", 59: "43", 74: "01082025",
                82: _amount(100000), 199: _amount(330), 214: "00000000"})  # fmt: skip
    u2 = _line({1: "3410001300004U 09", 18: "0" * 120, 138: "0403202500000000"})
    result = parse_retorno(envelope(_itau_remessa(), [t, u, t2, u2]))
    assert (result.unmatched, result.errors) == ((), ())
    first, second = result.occurrences
    assert (first.nosso_numero, first.outcome, first.document_number) == (
        "109/00000042-8",
        Outcome.REJECTED,
        "42",
    )
    assert first.reasons == (
        Reason("08", "Nome do pagador não informado ou deslocado"),
        Reason("10", "Logradouro não informado ou deslocado"),
    )
    assert (second.outcome, second.fee_cents, second.occurrence_date, second.credit_date) == (
        Outcome.WRITTEN_OFF, 330, date(2025, 3, 4), None
    )  # fmt: skip


def _itau_remessa() -> list[str]:
    return remessa_lines(ITAU_HEADER, [title_from_boleto(_boleto(42, "341", 12345))])


def _bb_remessa() -> list[str]:
    return remessa_lines(BB_HEADER, [title_from_boleto(_boleto(42, "001", 12345))])


def test_itau_17_is_a_rejected_change_not_a_payment() -> None:
    lines = retorno_for(_itau_remessa(), {0: Registered()})
    lines[2] = lines[2][:15] + "17" + lines[2][17:]
    (occurrence,) = parse_retorno(lines).occurrences
    assert (occurrence.outcome, occurrence.description) == (
        Outcome.INSTRUCTION_REJECTED, "Alteração/exclusão de dados rejeitada"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("bank", "code", "outcome"),
    [
        ("001", "12", Outcome.REBATE_GRANTED),
        ("001", "14", Outcome.DUE_DATE_CHANGED),
        ("001", "26", Outcome.INSTRUCTION_REJECTED),
        ("341", "12", Outcome.REBATE_GRANTED),
        ("341", "14", Outcome.DUE_DATE_CHANGED),
        ("341", "16", Outcome.INSTRUCTION_REJECTED),
    ],
)
def test_answers_to_instructions_are_told_apart(bank: str, code: str, outcome: Outcome) -> None:
    remessa = _bb_remessa() if bank == "001" else _itau_remessa()
    lines = retorno_for(remessa, {0: Registered()})
    lines[2] = lines[2][:15] + code + lines[2][17:]
    (occurrence,) = parse_retorno(lines).occurrences
    assert occurrence.outcome is outcome


def test_malformed_lines_are_reported_and_the_rest_still_read() -> None:
    remessa = _bb_remessa()
    good = retorno_for(remessa, {0: Paid(12345, date(2025, 7, 10), date(2025, 7, 11))})
    t, u = good[2], good[3]
    short_t = t[:239]
    letters_t = t[:81] + "0000000000ABC45" + t[96:]
    foreign = "237" + t[3:]
    segment_y = t[:13] + "Y" + t[14:]
    details = [short_t, u, letters_t, u, foreign, segment_y, t, u, u, t]
    lines = envelope(remessa, details)
    result = parse_retorno(lines)
    assert [o.line_number for o in result.occurrences] == [9]
    assert result.unmatched == (
        Unmatched(3, "record has 239 characters, expected 240 ASCII characters"),
        Unmatched(4, "segment U without its segment T before it"),
        Unmatched(5, "valor nominal at 82-96 is not numeric: '0000000000ABC45'"),
        Unmatched(6, "segment U of the unreadable segment T on line 5"),
        Unmatched(7, "bank code '237' is not this file's"),
        Unmatched(8, "segment 'Y' is not read"),
        Unmatched(11, "segment U without its segment T before it"),
        Unmatched(12, "segment T without its segment U after it"),
    )
    assert result.errors == ()


def test_count_mismatches_and_missing_records_are_errors() -> None:
    lines = retorno_for(_bb_remessa(), {0: Registered()})
    lot_trailer, trailer = lines[-2], lines[-1]
    lines[-2] = lot_trailer[:17] + "000009" + lot_trailer[23:]
    lines[-1] = trailer[:17] + "000002000099" + trailer[29:]
    result = parse_retorno(lines)
    assert len(result.occurrences) == 1
    assert result.errors == (
        FileError(5, "lot trailer counts 9 records, the lot has 4"),
        FileError(6, "file trailer counts 2 lots, the file has 1"),
        FileError(6, "file trailer counts 99 records, the file has 6"),
    )
    truncated = parse_retorno(retorno_for(_bb_remessa(), {0: Registered()})[:-2])
    assert truncated.errors == (
        FileError(None, "no file trailer (record type 9)"),
        FileError(None, "the last lot has no trailer (record type 5)"),
    )


def test_a_remessa_is_not_a_retorno() -> None:
    result = parse_retorno(_bb_remessa())
    assert FileError(1, "file header code '1': not a retorno") in result.errors
    assert any("expected retorno" in e.text for e in result.errors)
    assert [u.reason for u in result.unmatched] == [
        "segment 'P' is not read",
        "segment 'Q' is not read",
    ]


# A Banco do Brasil retorno published by eduardokum/laravel-boleto (PHP),
# tests/Retorno/files/cnab240/banco_brasil.ret at commit
# 0081d0958f6257c39d4594ce2ca466d725cd5b5c: test data only. Line 2 has 241 characters there (a
# trailing blank), kept as published.
LARAVEL_BB_RETORNO = [
    (
        "00100000         2026599530001760032948600014       0032860000000075367 SAPATARI"
        "A E CONFECSOES JIBA   BANCO DO BRASIL                         221032011024750000"
        "25703000000909214318PROCESSAMEN                                                 "
    ),
    (
        "00100011T0100020 20026599530001760032948600014       0032860000000075367 SAPATAR"
        "IA E CONFECSOES JIBA                                                            "
        "                        000000002103201100000000  000000000                     "
        " "
    ),
    (
        "0010001300001T 060032860000000075367 32948600000000196   1               2303201"
        "1000000000004000237009880                         090000000000000000000000000000"
        "0000000000000000000000000   000000000000000000000050000        180273294860     "
    ),
    (
        "0010001300002U 06000000000000000000000000000000000000000000000000000000000000000"
        "0000000040000000000000035000000000000000000000000000000002103201123032011       "
        "     000000000000000                              000                           "
    ),
    (
        "0010001300003T 060032860000000075367 32948600000000236   1               2503201"
        "1000000000003000033045680                         090000000000000000000000000000"
        "0000000000000000000000000   000000000000000000000050000        180273294860     "
    ),
    (
        "0010001300004U 06000000000000000000000000000000000000000000000000000000000000000"
        "0000000030000000000000025000000000000000000000000000000002103201123032011       "
        "     000000000000000                              000                           "
    ),
    (
        "0010001300005T 060032860000000075367 32948600000000244   1               2303201"
        "1000000000001500104004900                         090000000000000000000000000000"
        "0000000000000000000000000   000000000000000000000050000        180273294860     "
    ),
    (
        "0010001300006U 06000000000000000000000000000000000000000000000000000000000000000"
        "0000000015000000000000010000000000000000000000000000000002103201123032011       "
        "     000000000000000                              000                           "
    ),
    (
        "0010001300007T 060032860000000075367 32948600000000249   1               2303201"
        "1000000000001500104022660                         090000000000000000000000000000"
        "0000000000000000000000000   000000000000000000000050000        180273294860     "
    ),
    (
        "0010001300008U 06000000000000000000000000000000000000000000000000000000000000000"
        "0000000015000000000000010000000000000000000000000000000002103201123032011       "
        "     000000000000000                              000                           "
    ),
    (
        "0010001300009T 060032860000000075367 32948600000005048   1               0104201"
        "1000000000002880033002570                         090000000000000000000000000000"
        "0000000000000000000000000   000000000000000000000050000        180273294860     "
    ),
    (
        "0010001300010U 06000000000000000000000000000000000000000000000000000000000000000"
        "0000000028800000000000023800000000000000000000000000000002103201123032011       "
        "     000000000000000                              000                           "
    ),
    (
        "00100015         000012000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000              "
        "                                                                                "
    ),
    (
        "00199999         000001000014000000                                             "
        "                                                                                "
        "                               00000000000000000000000000000                    "
    ),
]


def test_laravel_boleto_bb_sample() -> None:
    raw = parse_retorno(LARAVEL_BB_RETORNO)
    assert raw.unmatched == (
        Unmatched(2, "record has 241 characters, expected 240 ASCII characters"),
    )
    assert len(raw.occurrences) == 5

    result = parse_retorno([line.rstrip().ljust(240) for line in LARAVEL_BB_RETORNO])
    assert (result.unmatched, result.errors) == ((), ())
    assert (result.bank_code, result.nsa, result.generated_on) == ("001", 257, date(2011, 3, 21))
    expected = [
        ("32948600000000196", date(2011, 3, 23), 4000),
        ("32948600000000236", date(2011, 3, 25), 3000),
        ("32948600000000244", date(2011, 3, 23), 1500),
        ("32948600000000249", date(2011, 3, 23), 1500),
        ("32948600000005048", date(2011, 4, 1), 2880),
    ]
    assert [
        (o.nosso_numero, o.due_date, o.face_value_cents) for o in result.occurrences
    ] == expected
    for occurrence in result.occurrences:
        assert (occurrence.code, occurrence.outcome) == ("06", Outcome.PAID)
        assert occurrence.paid_cents == occurrence.face_value_cents
        assert occurrence.fee_cents == 500
        assert occurrence.credited_cents == occurrence.paid_cents - 500
        assert (occurrence.occurrence_date, occurrence.credit_date) == (
            date(2011, 3, 21), date(2011, 3, 23)
        )  # fmt: skip


# The first title of a BB retorno in kivanio/brcobranca (Ruby), spec/arquivos/CNAB240.RET at
# commit 325e0eae69ad298477b935a441a22c61c7556f31: test data only. The repository stores its
# lines with trailing blanks trimmed; they are padded back to 240 here.
BRCOBRANCA_BB_RETORNO_PAIR = [
    (
        "0010001300001T 170123450000000054321 14499570000020673   7               0000000"
        "0000000000034400001020850                         090000000000000000000000000000"
        "0000000000000000000000000   000000000000000000000010303        170191449957"
    ),
    (
        "0010001300002U 17000000000000009000000000000001000000000000002000000000000003000"
        "0000000344000000000000342970000000000000040000000000000052912201102012012       "
        "     000000000000000                              000"
    ),
]


def test_brcobranca_bb_liquidacao_apos_baixa() -> None:
    details = [line.ljust(240) for line in BRCOBRANCA_BB_RETORNO_PAIR]
    result = parse_retorno(envelope(_bb_remessa(), details))
    assert (result.unmatched, result.errors) == ((), ())
    assert result.occurrences == (
        _occurrence(
            3, "001", "14499570000020673", "", "17", Outcome.PAID,
            # Motivo 03 of a liquidação is how it was paid, not a rejection: no rejection text.
            reasons=(Reason("03", ""),),
            face_value_cents=34400, fee_cents=103, due_date=None, paid_cents=34400,
            credited_cents=34297, interest_cents=9,
            occurrence_date=date(2011, 12, 29), credit_date=date(2012, 1, 2),
        ),
    )  # fmt: skip


def _read_field_by_field(lines: list[str]) -> Any:
    """parse_retorno with every record through the reader's general path, field by field."""
    from boleto_service.domain.cnab240 import retorno

    plain = retorno._is_plain_detail
    retorno._is_plain_detail = lambda state, line: False
    try:
        return parse_retorno(lines)
    finally:
        retorno._is_plain_detail = plain


def _paid_and_rejected_retorno(bank: str) -> list[str]:
    header = BB_HEADER if bank == "001" else ITAU_HEADER
    titles = [title_from_boleto(_boleto(n, bank, 12345)) for n in (42, 43)]
    return retorno_for(
        remessa_lines(header, titles),
        {0: Paid(12345, date(2025, 7, 10), date(2025, 7, 11)), 1: Rejected(("48",))},
    )


@pytest.mark.parametrize("bank", ["001", "341"])
@settings(max_examples=150, deadline=None)
@given(
    damage=st.lists(
        st.tuples(st.integers(2, 5), st.integers(0, 239), st.sampled_from("0 9A-\x1a")),
        max_size=3,
    )
)
def test_the_quick_reading_of_details_reads_as_the_field_by_field_one(
    bank: str, damage: list[tuple[int, int, str]]
) -> None:
    """Details are read by slices worked out once per bank; a damaged field (letters in an
    amount, a day that is no date, a code of symbols) is said as the general path says it."""
    lines = _paid_and_rejected_retorno(bank)
    for line, at, char in damage:
        lines[line] = lines[line][:at] + char + lines[line][at + 1 :]
    assert parse_retorno(lines) == _read_field_by_field(lines)


def test_the_quick_reading_reads_every_field() -> None:
    lines = _paid_and_rejected_retorno("001")
    read = parse_retorno(lines)
    assert read == _read_field_by_field(lines)
    assert [o.outcome for o in read.occurrences] == [Outcome.PAID, Outcome.REJECTED]
    assert read.occurrences[0].paid_cents == 12345
    assert read.occurrences[1].reasons == (Reason("48", "CEP inválido"),)
