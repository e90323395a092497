"""The retorno use case without a database: the first pass that refuses a file whole (the
reader's file errors alone, at a fraction of the reading), and the second
pass's listed problems and bounded log, over a ledger kept in memory that decides with the
domain's own `plan_batch`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boleto_service.domain.bank_status import BatchPlan, Finished, Tracked, plan_batch
from boleto_service.domain.beneficiary import BeneficiaryConfig
from boleto_service.domain.boleto import BankState, BankStatus, Boleto, Payer, PayerAddress
from boleto_service.domain.cnab240 import RemessaHeader, remessa_lines, title_from_boleto
from boleto_service.domain.cnab240.retorno import FileError, Occurrence, RetornoReader
from boleto_service.domain.issuing import issue_boleto
from boleto_service.service.retornos import (
    BANK_NOT_SERVED,
    COUNTS_DISAGREE,
    INCOMPLETE,
    MALFORMED,
    NOT_A_RETORNO,
    NOT_CNAB240,
    Problem,
    ProcessRetornos,
    RetornoRefused,
    Summary,
    Twice,
    check_retorno,
)
from boletos.platform.outbox import Event
from boletos_cli.bank import (
    CREDITED_ON,
    PAID_ON,
    Paid,
    Registered,
    Result,
    envelope,
    pair,
    titles_of,
)

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
TODAY = dt.date(2025, 7, 1)
AMOUNTS = (10000, 25050, 7300)
AT = dt.datetime(2025, 7, 5, 12, tzinfo=dt.UTC)


def _boletos() -> list[Boleto]:
    address = PayerAddress("Rua Sete de Setembro, 40", "Centro", "20050009", "Rio", "RJ")
    payer = Payer("Maria Conceição", "52998224725", 2, "maria@example.com", address)
    return [
        Boleto(
            f"00000000-0000-4000-8000-00000000000{n}", "upload", n, n, TODAY, payer,
            issue_boleto(BB, n, amount, dt.date(2025, 7, 20), TODAY),
        )
        for n, amount in enumerate(AMOUNTS, start=1)
    ]  # fmt: skip


BOLETOS = _boletos()
REMESSA = remessa_lines(
    RemessaHeader(BB, 7, dt.datetime(2025, 7, 1, 13, 45), "3", variacao_carteira="19"),
    [title_from_boleto(b) for b in BOLETOS],
)


def _details() -> list[str]:
    details: list[str] = []
    for n, (p, q) in enumerate(titles_of(REMESSA)):
        results: list[Result] = [Registered()]
        if n == 0:
            results.append(Paid(AMOUNTS[0], PAID_ON, CREDITED_ON))
        for result in results:
            details += pair("001", len(details) + 1, p, q, result)
    return details


# Each title confirmed, the first paid: a header, a lot header, 4 pairs (the payment on lines
# 5 and 6), two trailers.
GOOD = envelope(REMESSA, _details())
DETAILS = GOOD[2:-2]
PAYMENT = GOOD[4:6]


def _at(line: str, start: int, value: str) -> str:
    return line[:start] + value + line[start + len(value) :]


def _text(lines: Sequence[str]) -> str:
    return "".join(f"{line}\r\n" for line in lines)


SPOILED: dict[str, tuple[Callable[[list[str]], str], str, int]] = {
    "empty": (lambda g: "", NOT_CNAB240, 0),
    "blank lines and a DOS end-of-file mark": (lambda g: "\r\n  \r\n\x1a", NOT_CNAB240, 0),
    "5 bytes of junk": (lambda g: "junk!", NOT_CNAB240, 1),
    "a CNAB 400 file": (lambda g: _text([line.ljust(400) for line in g]), NOT_CNAB240, 1),
    "a first record of letters": (lambda g: _text(["x" * 240, *g]), NOT_CNAB240, 1),
    "a first record with an accent": (lambda g: _text(["é" * 240, *g]), NOT_CNAB240, 1),
    "blank lines, then junk": (lambda g: "\r\n\r\nnot a retorno\r\n", NOT_CNAB240, 3),
    "a remessa": (lambda g: _text(REMESSA), NOT_A_RETORNO, 1),
    "no file header": (lambda g: _text(g[1:]), NOT_A_RETORNO, 0),
    "a lot of another service": (lambda g: _text([g[0], _at(g[1], 9, "02"), *g[2:]]),
                                 NOT_A_RETORNO, 2),
    "cut after a title": (lambda g: _text(g[:-4]), INCOMPLETE, 0),
    "cut inside a record": (lambda g: _text(g)[:1000], INCOMPLETE, 0),
    "no lot trailer": (lambda g: _text([*g[:-2], g[-1]]), INCOMPLETE, 0),
    "the file trailer's lots": (lambda g: _text([*g[:-1], _at(g[-1], 17, "000002")]),
                                COUNTS_DISAGREE, 12),
    "the file trailer's records": (lambda g: _text([*g[:-1], _at(g[-1], 23, "000011")]),
                                   COUNTS_DISAGREE, 12),
    "a record too many": (lambda g: _text([*g[:-2], g[2], *g[-2:]]), COUNTS_DISAGREE, 12),
    "a blank line inside": (lambda g: _text([*g[:4], "", *g[4:]]), COUNTS_DISAGREE, 12),
    "a record after the trailer": (lambda g: _text([*g, g[2]]), MALFORMED, 13),
    "two files in one": (lambda g: _text(g + g), MALFORMED, 13),
    "a bank no bank is": (lambda g: _text([_at(r, 0, "999") for r in g]), BANK_NOT_SERVED, 0),
}  # fmt: skip


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "CB.RET"
    path.write_bytes(text.encode("latin-1"))
    return path


def test_the_good_file_is_whole() -> None:
    assert len(GOOD) == 12
    assert not any(e for e in RetornoReader().read(GOOD) if isinstance(e, FileError))


@pytest.mark.parametrize("spoiled", list(SPOILED))
def test_a_file_that_is_not_a_whole_retorno_is_refused(tmp_path: Path, spoiled: str) -> None:
    spoil, reason, line = SPOILED[spoiled]
    with pytest.raises(RetornoRefused) as refused:
        check_retorno(_write(tmp_path, spoil(list(GOOD))))
    assert (refused.value.reason, refused.value.line) == (reason, line), refused.value.message


@pytest.mark.parametrize(
    ("spoiled", "message"),
    [
        ("5 bytes of junk", "line 1: not a CNAB 240 record (5 characters, not 240)"),
        ("empty", "the file has no records, only blank lines"),
        (
            "a remessa",
            "line 1: file header code '1': not a retorno; line 2: lot operation/service "
            "'R01', expected retorno of cobrança (a remessa, the file sent to the bank, not "
            "its answer)",
        ),
        (
            "cut after a title",
            "no file trailer (record type 9); the last lot has no trailer (record type 5) "
            "(the file ends before its trailer: cut short)",
        ),
        ("the file trailer's records", "line 12: file trailer counts 11 records, the file has 12"),
        (
            "two files in one",
            "line 13: record after the file trailer (and 11 more line(s)); line 13: a second "
            "file header; 2 more error(s) in the file's structure",
        ),
        ("a bank no bank is", "bank 999 wrote the file; this service has no boleto of that bank"),
    ],
)
def test_a_refusal_says_what_is_wrong(tmp_path: Path, spoiled: str, message: str) -> None:
    with pytest.raises(RetornoRefused) as refused:
        check_retorno(_write(tmp_path, SPOILED[spoiled][0](list(GOOD))))
    assert refused.value.message == message


def test_a_refusal_never_quotes_a_payer(tmp_path: Path) -> None:
    # A lot header shifted by a few positions: letters of a name where its operation is.
    lines = [GOOD[0], _at(GOOD[1], 8, "MAR"), *GOOD[2:]]
    with pytest.raises(RetornoRefused) as refused:
        check_retorno(_write(tmp_path, _text(lines)))
    assert refused.value.reason == NOT_A_RETORNO
    assert "MAR" not in refused.value.message and "'***'" in refused.value.message


def test_a_whole_file_passes_with_its_bank_and_nsa(tmp_path: Path) -> None:
    checked = check_retorno(_write(tmp_path, _text(GOOD)))
    assert (checked.bank_code, checked.nsa, checked.repeated.any) == ("001", 7, False)
    twice = check_retorno(_write(tmp_path, _text(envelope(REMESSA, [*DETAILS, *PAYMENT]))))
    nosso = BOLETOS[0].numbers.nosso_numero
    assert (nosso, "06") in twice.repeated
    assert (nosso, "02") not in twice.repeated


def test_twice_never_misses_a_value_seen_twice() -> None:
    twice = Twice()
    values = [(f"1234567{n:010d}", "06") for n in range(20_000)]
    for value in values:
        twice.add(value)
    # Seen once each: taken for twice only where two share a bit, a handful in 20,000.
    assert sum(value in twice for value in values) < 40
    for value in values[::7]:
        twice.add(value)
    assert all(value in twice for value in values[::7])
    assert not Twice().any and values[0] not in Twice()


def _file_errors(lines: list[str]) -> list[FileError]:
    return [e for e in RetornoReader().read(lines) if isinstance(e, FileError)]


# --- the use case over a ledger in memory -----------------------------------------------------


class MemoryLedger:
    def __init__(self, boletos: Sequence[Boleto]) -> None:
        self.boletos = {
            (b.numbers.bank_code, b.numbers.nosso_numero): Tracked(
                b.debt_id, b.upload_id, b.amount_cents, BankState()
            )
            for b in boletos
        }
        self.keys: set[str] = set()
        self.files: dict[str, str] = {}
        self.batches: list[list[Occurrence]] = []
        self.events: list[Event] = []

    def summary(self, retorno_id: str) -> str | None:
        return self.files.get(retorno_id)

    def serves_bank(self, bank_code: str) -> bool:
        return any(bank == bank_code for bank, _ in self.boletos)

    def apply_batch(
        self,
        batch: Sequence[Occurrence],
        retorno_id: str,
        at: dt.datetime,
        events: Callable[[BatchPlan], list[Event]],
    ) -> BatchPlan:
        plan = plan_batch(batch, self.boletos, self.keys, at)
        self.keys.update(r.key for r in plan.recorded)
        by_debt = {t.debt_id: k for k, t in self.boletos.items()}
        for debt_id, tracked in plan.states.items():
            self.boletos[by_debt[debt_id]] = tracked
        self.events += events(plan)
        self.batches.append(list(batch))
        return plan

    def finish(
        self,
        retorno_id: str,
        file_name: str,
        bank_code: str,
        nsa: int | None,
        summary: str,
        at: dt.datetime,
    ) -> Finished:
        if retorno_id in self.files:
            return Finished(self.files[retorno_id], by_this_call=False)
        self.files[retorno_id] = summary
        return Finished(summary, by_this_call=True)

    def status(self, n: int) -> BankState:
        b = BOLETOS[n]
        return self.boletos[(b.numbers.bank_code, b.numbers.nosso_numero)].state


def _process(ledger: MemoryLedger, path: Path, batch_size: int = 2) -> Summary:
    return ProcessRetornos(ledger, batch_size=batch_size, clock=lambda: AT).process(
        path, path.read_bytes().hex()[:64], path.name
    )


@pytest.mark.parametrize(
    "spoiled", ["a remessa", "the file trailer's records", "cut after a title"]
)
def test_a_refused_file_applies_and_records_nothing(tmp_path: Path, spoiled: str) -> None:
    ledger = MemoryLedger(BOLETOS)
    path = _write(tmp_path, SPOILED[spoiled][0](list(GOOD)))
    for _ in range(2):
        with pytest.raises(RetornoRefused):
            _process(ledger, path)
    assert (ledger.batches, ledger.files, ledger.events) == ([], {}, [])


def test_a_bank_without_boletos_here_is_refused(tmp_path: Path) -> None:
    ledger = MemoryLedger([])
    with pytest.raises(RetornoRefused) as refused:
        _process(ledger, _write(tmp_path, _text(GOOD)))
    assert (refused.value.reason, refused.value.bank_code) == (BANK_NOT_SERVED, "001")
    assert ledger.batches == []


def test_a_liquidation_of_nothing_is_a_problem_not_a_payment(tmp_path: Path) -> None:
    ledger = MemoryLedger(BOLETOS)
    lines = list(GOOD)
    lines[5] = _at(lines[5], 77, "0" * 15)  # the payment's segment U: valor pago 0
    done = _process(ledger, _write(tmp_path, _text(lines)))
    assert (done.occurrences, done.registered, done.paid) == (4, 3, 0)
    nosso = BOLETOS[0].numbers.nosso_numero
    assert done.problems == [
        Problem(
            5,
            f"a liquidation (06 Liquidação) of nosso número {nosso} paying 0 centavos: not a "
            "payment, not applied",
        )
    ]
    assert ledger.status(0).status is BankStatus.REGISTERED
    assert all(o.line_number != 5 for batch in ledger.batches for o in batch)


def test_the_same_payment_twice_in_a_file_is_listed_once_it_repeats(tmp_path: Path) -> None:
    ledger = MemoryLedger(BOLETOS)
    lines = envelope(REMESSA, [*DETAILS, *PAYMENT, *PAYMENT])
    done = _process(ledger, _write(tmp_path, _text(lines)), batch_size=3)
    nosso = BOLETOS[0].numbers.nosso_numero
    assert [(p.line, p.reason) for p in done.problems] == [
        (line, f"06 Liquidação of nosso número {nosso} repeats line 5 of this file: applied once")
        for line in (11, 13)
    ]
    assert (done.paid, done.repeated_occurrences) == (1, 2)
    assert ledger.status(0).paid_cents == AMOUNTS[0]


def test_problems_are_logged_once_per_kind_and_listed_up_to_a_bound(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("boleto_service.service.retornos.MAX_LISTED_PROBLEMS", 1)
    ledger = MemoryLedger(BOLETOS[1:])  # the first title's two lines name no boleto here
    # Four titles whose segment T has letters for a valor nominal: each T and its U unread.
    unreadable = [_at(GOOD[6], 81, "ABC"), GOOD[7]] * 4
    lines = envelope(REMESSA, [*DETAILS[:4], *unreadable, *DETAILS[4:]])
    with caplog.at_level(logging.INFO, logger="boleto"):
        done = _process(ledger, _write(tmp_path, _text(lines)))
    warned = [r for r in caplog.records if r.name == "boleto" and r.levelno >= logging.WARNING]
    assert sorted((r.getMessage(), r.__dict__["kind"], r.__dict__["count"]) for r in warned) == [
        ("retorno.line_unusable", "unknown_boleto", 2),
        ("retorno.line_unusable", "unreadable", 8),
    ]
    assert (len(done.problems), done.problems_not_listed) == (1, 9)
    assert done.listed_problems()[-1] == Problem(
        0, "9 more problems not listed here (unknown_boleto 1, unreadable 8)"
    )
    again = Summary.from_json(done.to_json())
    assert again == done


def test_a_summary_stored_before_the_count_by_kind_reads_back() -> None:
    stored = (
        '{"retorno_id":"r","file_name":"f","problems":[{"line":3,"reason":"x"}],'
        '"problems_not_listed":7}'
    )
    summary = Summary.from_json(stored)
    assert summary.listed_problems() == [
        Problem(3, "x"),
        Problem(0, "7 more problems not listed here"),
    ]


@pytest.mark.parametrize("spoiled", list(SPOILED))
def test_the_readers_file_errors_alone_are_those_it_reads(spoiled: str) -> None:
    lines = SPOILED[spoiled][0](list(GOOD)).split("\n")
    assert list(RetornoReader().file_errors(lines)) == _file_errors(lines)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["drop", "copy", "cut", "blank", "swap", "bank", "kind"]),
            st.integers(0, 40),
            st.integers(0, 260),
        ),
        max_size=4,
    )
)
def test_the_readers_file_errors_alone_are_those_it_reads_for_any_damage(
    damage: list[tuple[str, int, int]],
) -> None:
    """The first pass takes only the file errors, which skips reading the details' fields; a
    file it finds whole must give the second pass no file error either."""
    lines = list(GOOD + GOOD[2:6])
    for what, at, width in damage:
        at %= len(lines) or 1
        if not lines:
            break
        if what == "drop":
            del lines[at]
        elif what == "copy":
            lines.insert(at, lines[(at + 3) % len(lines)])
        elif what == "cut":
            lines[at] = lines[at][:width]
        elif what == "blank":
            lines.insert(at, "")
        elif what == "bank":
            lines[at] = _at(lines[at], 0, "341")
        elif what == "kind":
            lines[at] = _at(lines[at], 7, str(width % 10))
        else:
            lines[at], lines[-1 - at % len(lines)] = lines[-1 - at % len(lines)], lines[at]
    file_errors = list(RetornoReader().file_errors(lines))
    assert file_errors == _file_errors(lines)
