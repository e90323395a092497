"""prepare() flattens a validated block into byte strings; they must decode to the same rows."""

from __future__ import annotations

import uuid
from array import array

from boletos.v1 import events_pb2
from ingest_service.domain.columns import content_hash
from ingest_service.domain.errors import ErrorCode
from ingest_service.domain.lines import Block, OversizedLine
from ingest_service.service.events import DEBTS_PER_EVENT
from ingest_service.service.prepare import PreparedBlock, prepare
from tests.support.csvdata import HEADER, RULES, valid_rows

MAX_LINE = 16 << 10
KINDS = {
    "11144477735": events_pb2.GOVERNMENT_ID_KIND_CPF,
    "11222333000181": events_pb2.GOVERNMENT_ID_KIND_CNPJ,
    "11144477736": events_pb2.GOVERNMENT_ID_KIND_OTHER,
}


def _file_rows(count: int) -> tuple[list[str], list[int]]:
    """Text lines from line 2 on, with a bad row every 7th line; and the good lines' numbers."""
    rows = valid_rows(count, seed=3)
    ids = list(KINDS)
    lines, good = [], []
    for i, r in enumerate(rows):
        line = 2 + i
        if i % 7 == 3:
            lines.append(r.changed(debt_id="not-a-uuid").line())
            continue
        if i % 5 == 1:
            r = r.changed(government_id=ids[i % len(ids)])
        if i % 11 == 0:
            r = r.changed(debt_id=r.debt_id.upper(), amount="12.34")
        lines.append(r.line())
        good.append(line)
    return lines, good


def test_keys_hashes_and_lines_decode_to_the_valid_rows_in_order() -> None:
    lines, good = _file_rows(40)
    prepared = prepare(
        HEADER.encode(), Block(2, "\n".join(lines).encode() + b"\n"), MAX_LINE, RULES
    )
    assert (prepared.rows, prepared.rejected) == (40, 40 - len(good))
    assert {e.code for e in prepared.errors} == {ErrorCode.DEBT_ID_INVALID}

    fields = [lines[n - 2].split(",") for n in good]
    expected_keys = [uuid.UUID(f[5]).bytes for f in fields]
    assert prepared.keys == b"".join(expected_keys)
    assert len(prepared.keys) == 16 * len(good)
    assert array("q", prepared.lines).tolist() == good
    expected_hashes = []
    for name, government_id, email, amount, due, _ in fields:
        whole, _, frac = amount.partition(".")
        cents = int(whole) * 100 + int(frac.ljust(2, "0"))
        expected_hashes.append(content_hash((name, government_id, email, cents, due)))
    assert array("q", prepared.hashes).tolist() == expected_hashes
    assert prepared.store_rows() == list(zip(expected_keys, expected_hashes, good, strict=True))


def test_event_bodies_announce_the_valid_rows_in_file_order() -> None:
    lines, good = _file_rows(2 * DEBTS_PER_EVENT + 400)
    prepared = prepare(HEADER.encode(), Block(2, "\n".join(lines).encode()), MAX_LINE, RULES)
    messages = [events_pb2.DebtsImported.FromString(b) for b in prepared.event_bodies]
    assert [len(m.debts) for m in messages] == [1000, 1000, len(good) - 2000]
    debts = [d for m in messages for d in m.debts]
    assert [d.line for d in debts] == good
    assert b"".join(uuid.UUID(d.debt_id).bytes for d in debts) == prepared.keys
    for debt in debts:
        name, government_id, email, amount, due, debt_id = lines[debt.line - 2].split(",")
        whole, _, frac = amount.partition(".")
        assert debt.amount_cents == int(whole) * 100 + int(frac.ljust(2, "0"))
        assert debt.debt_id == debt_id.lower()
        assert (debt.name, debt.government_id, debt.email, debt.due_date) == (
            name,
            government_id,
            email,
            due,
        )
        assert debt.government_id_kind == KINDS.get(
            government_id, events_pb2.GOVERNMENT_ID_KIND_OTHER
        )
    assert {d.government_id_kind for d in debts} == {1, 2, 3}


def test_columns_in_another_order_give_the_same_result() -> None:
    lines, _ = _file_rows(30)
    canonical = prepare(HEADER.encode(), Block(2, "\n".join(lines).encode()), MAX_LINE, RULES)
    order = [5, 3, 0, 4, 2, 1]
    names = HEADER.split(",")
    shuffled_header = ",".join(names[i] for i in order).encode()
    shuffled = "\n".join(",".join(line.split(",")[i] for i in order) for line in lines)
    other = prepare(shuffled_header, Block(2, shuffled.encode()), MAX_LINE, RULES)
    assert (other.keys, other.hashes, other.lines) == (
        canonical.keys,
        canonical.hashes,
        canonical.lines,
    )
    assert other.event_bodies == canonical.event_bodies


def test_oversized_line_is_one_rejected_row_and_nothing_to_store() -> None:
    prepared = prepare(HEADER.encode(), OversizedLine(line=12, size=99_999), MAX_LINE, RULES)
    assert (prepared.rows, prepared.rejected) == (1, 1)
    [error] = prepared.errors
    assert (error.line, error.code) == (12, ErrorCode.LINE_TOO_LONG)
    assert (prepared.keys, prepared.hashes, prepared.lines, prepared.event_bodies) == (
        b"",
        b"",
        b"",
        [],
    )
    assert prepared.store_rows() == []


def test_block_of_only_bad_rows_has_nothing_to_store() -> None:
    prepared = prepare(HEADER.encode(), Block(5, b"a,b,c\n\n"), MAX_LINE, RULES)
    assert prepared == PreparedBlock(rows=1, rejected=1, errors=prepared.errors)
    assert prepared.errors[0].line == 5


def test_header_with_bom_and_other_case_is_understood() -> None:
    lines, good = _file_rows(10)
    header = b"\xef\xbb\xbf" + HEADER.upper().encode()
    prepared = prepare(header, Block(2, "\n".join(lines).encode()), MAX_LINE, RULES)
    assert array("q", prepared.lines).tolist() == good
