"""The assembler must give the same lines, numbered the same, however the upload is chunked."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ingest_service.domain.lines import (
    Block,
    LineAssembler,
    OversizedLine,
    UnclosedQuote,
    split_records,
)

HEADER = b"name,governmentId,email,debtAmount,debtDueDate,debtId"
ROWS = [
    b"John Doe,11111111111,john@example.com,10.50,2023-01-31,1adb6ccf-ff16-467f-bea7-5f05d494280f",
    b'"Smith, Ana",1234,ana@example.com,7811,2023-02-01,3f2b1c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d',
    b"Paulo Lima,9999,paulo@example.org,1,2023-12-31,00000000-0000-4000-8000-000000000001",
]

Item = Block | OversizedLine | UnclosedQuote


def _file(newline: bytes = b"\n", bom: bool = False, final_newline: bool = True) -> bytes:
    data = newline.join([HEADER, *ROWS])
    if final_newline:
        data += newline
    return (b"\xef\xbb\xbf" if bom else b"") + data


def _run(chunks: list[bytes], **kwargs: int) -> tuple[bytes | None, list[Item]]:
    assembler = LineAssembler(**kwargs)
    items: list[Item] = []
    for chunk in chunks:
        items += assembler.feed(chunk)
    items += assembler.finish()
    return assembler.header, items


def _numbered_lines(items: list[Item]) -> list[tuple[int, bytes]]:
    """Every line the items carry, with the line number its block gives it."""
    out: list[tuple[int, bytes]] = []
    for item in items:
        if isinstance(item, OversizedLine):
            out.append((item.line, b"<oversized %d>" % item.size))
            continue
        if isinstance(item, UnclosedQuote):
            out.append((item.line, b"<unclosed %s>" % item.data))
            continue
        for offset, line in enumerate(item.data.splitlines(keepends=True)):
            out.append((item.first_line + offset, line))
    return out


def _check_block_shape(items: list[Item]) -> None:
    blocks = [i for i in items if isinstance(i, Block)]
    # Only the file's very last block may end without a newline.
    for block in blocks[:-1]:
        assert block.data.endswith(b"\n")
    assert all(block.data for block in blocks)


CASES = {
    "lf": _file(),
    "crlf": _file(b"\r\n"),
    "bom-crlf": _file(b"\r\n", bom=True),
    "unterminated": _file(final_newline=False),
    "bom-crlf-unterminated": _file(b"\r\n", bom=True, final_newline=False),
}


@pytest.mark.parametrize("block_bytes", [1, 40, 1 << 20])
@pytest.mark.parametrize("name", list(CASES))
def test_every_split_point_gives_the_same_lines(name: str, block_bytes: int) -> None:
    data = CASES[name]
    header, items = _run([data], block_bytes=block_bytes)
    expected = _numbered_lines(items)
    assert header == HEADER
    assert [n for n, _ in expected] == [2, 3, 4]
    assert b"".join(line for _, line in expected) == data.split(b"\n", 1)[1]
    for i in range(len(data) + 1):
        split_header, split_items = _run([data[:i], data[i:]], block_bytes=block_bytes)
        assert split_header == HEADER, i
        assert _numbered_lines(split_items) == expected, i
        _check_block_shape(split_items)


@pytest.mark.parametrize("block_bytes", [1, 40, 1 << 20])
@pytest.mark.parametrize("name", list(CASES))
def test_one_byte_chunks_give_the_same_lines(name: str, block_bytes: int) -> None:
    data = CASES[name]
    _, whole = _run([data], block_bytes=block_bytes)
    header, items = _run([data[i : i + 1] for i in range(len(data))], block_bytes=block_bytes)
    assert header == HEADER
    assert _numbered_lines(items) == _numbered_lines(whole)
    _check_block_shape(items)


def test_header_is_stripped_of_bom_and_crlf_and_rows_keep_their_cr() -> None:
    header, items = _run([_file(b"\r\n", bom=True)])
    assert header == HEADER
    assert items == [Block(2, b"".join(row + b"\r\n" for row in ROWS))]


def test_last_line_without_newline_is_kept_by_finish() -> None:
    assembler = LineAssembler()
    assert assembler.feed(_file(final_newline=False)) == []
    assert assembler.finish() == [Block(2, b"\n".join(ROWS))]


def test_header_only_file_without_newline() -> None:
    header, items = _run([HEADER])
    assert header == HEADER
    assert items == []


def test_empty_file_has_no_header_and_no_lines() -> None:
    header, items = _run([b"", b""])
    assert header is None
    assert items == []


def test_abandon_keeps_only_whole_lines() -> None:
    assembler = LineAssembler()
    partial = ROWS[2][:20]
    assembler.feed(HEADER + b"\n" + ROWS[0] + b"\n" + ROWS[1] + b"\n" + partial)
    assert assembler.abandon() == [Block(2, ROWS[0] + b"\n" + ROWS[1] + b"\n")]


def test_abandon_with_no_whole_line_yields_nothing() -> None:
    assembler = LineAssembler()
    assembler.feed(HEADER + b"\n" + ROWS[0][:10])
    assert assembler.abandon() == []


def test_abandon_before_the_header_ended_yields_nothing() -> None:
    assembler = LineAssembler()
    assembler.feed(HEADER[:10])
    assert assembler.abandon() == []
    assert assembler.header is None


def test_abandon_while_skipping_an_oversized_line_drops_it() -> None:
    assembler = LineAssembler(max_line_bytes=50)
    out = assembler.feed(HEADER + b"\n" + ROWS[0] + b"\n" + b"x" * 200)
    assert out == [Block(2, ROWS[0] + b"\n")]
    assert assembler.abandon() == []


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 1000])
def test_oversized_line_is_reported_and_memory_stays_bounded(chunk_size: int) -> None:
    max_line = 64
    long_line = b"y" * 10_000
    data = HEADER + b"\n" + ROWS[0][:60] + b"\n" + long_line + b"\n" + b"after\n"
    # block_bytes=1 hands whole lines on at once, so whatever stays held is the line in progress.
    assembler = LineAssembler(block_bytes=1, max_line_bytes=max_line)
    items: list[Item] = []
    for start in range(0, len(data), chunk_size):
        items += assembler.feed(data[start : start + chunk_size])
        assert len(assembler._buf) <= max_line + chunk_size
    items += assembler.finish()
    assert _numbered_lines(items) == [
        (2, ROWS[0][:60] + b"\n"),
        (3, b"<oversized %d>" % len(long_line)),
        (4, b"after\n"),
    ]


def test_oversized_line_arriving_whole_is_left_to_the_validator() -> None:
    # Within one chunk the line costs no extra memory; its length is judged downstream.
    long_line = b"y" * 100
    _, items = _run([HEADER + b"\n" + long_line + b"\nok\n"], max_line_bytes=10)
    assert items == [Block(2, long_line + b"\nok\n")]


def test_unterminated_oversized_last_line_is_reported_by_finish() -> None:
    assembler = LineAssembler(max_line_bytes=16)
    items = assembler.feed(HEADER + b"\n" + b"short\n")
    for _ in range(100):
        items += assembler.feed(b"z" * 10)
        assert len(assembler._buf) <= 16 + 10
    items += assembler.finish()
    assert items[-1] == OversizedLine(3, 1000)
    assert _numbered_lines(items[:-1]) == [(2, b"short\n")]


def test_endless_first_line_is_not_buffered() -> None:
    assembler = LineAssembler(max_line_bytes=32)
    items: list[Item] = []
    for _ in range(50):
        items += assembler.feed(b"h" * 10)
        assert len(assembler._buf) <= 32 + 10
    items += assembler.feed(b"\nrow\n")
    items += assembler.finish()
    assert assembler.header is not None and len(assembler.header) <= 32
    assert items == [OversizedLine(1, 500), Block(2, b"row\n")]


def test_line_numbers_continue_after_an_oversized_line_across_chunks() -> None:
    assembler = LineAssembler(max_line_bytes=10)
    items = assembler.feed(HEADER + b"\nok1\n" + b"q" * 30)
    items += assembler.feed(b"q" * 5 + b"\nok2\nok3\n")
    items += assembler.finish()
    assert _numbered_lines(items) == [
        (2, b"ok1\n"),
        (3, b"<oversized 35>"),
        (4, b"ok2\n"),
        (5, b"ok3\n"),
    ]


def test_blocks_are_cut_at_line_boundaries_once_block_bytes_is_reached() -> None:
    rows = [b"row-%03d,some,values,here\n" % i for i in range(40)]
    data = HEADER + b"\n" + b"".join(rows)
    block_bytes, chunk_size = 100, 9
    assembler = LineAssembler(block_bytes=block_bytes)
    fed: list[Item] = []
    for start in range(0, len(data), chunk_size):
        fed += assembler.feed(data[start : start + chunk_size])
    rest = assembler.finish()
    assert len(fed) > 5
    longest = max(len(r) for r in rows)
    for block in fed:
        assert isinstance(block, Block)
        assert block.data.endswith(b"\n")
        assert block_bytes <= len(block.data) < block_bytes + chunk_size + longest
    assert len(rest) <= 1
    # Line numbers continue from block to block.
    expected_first = 2
    for block in [*fed, *rest]:
        assert isinstance(block, Block)
        assert block.first_line == expected_first
        expected_first += block.data.count(b"\n")
    assert b"".join(b.data for b in [*fed, *rest] if isinstance(b, Block)) == b"".join(rows)


def test_blank_lines_keep_their_numbers() -> None:
    _, items = _run([HEADER + b"\n\nrow\n  \nlast"], block_bytes=1)
    assert _numbered_lines(items) == [(2, b"\n"), (3, b"row\n"), (4, b"  \n"), (5, b"last")]


def test_bytes_received_counts_every_byte() -> None:
    assembler = LineAssembler(max_line_bytes=8)
    data = _file()
    for start in range(0, len(data), 5):
        assembler.feed(data[start : start + 5])
    assert assembler.bytes_received == len(data)


# --- RFC 4180 records -------------------------------------------------------------------------

MULTILINE = [
    b'"Ana\nSouza",1234,ana@example.com,10,2023-01-01,3f2b1c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d',
    b'"Eve\r\nBcc: all@example.com",1,eve@example.com,1,2023-01-01,'
    b"4f2b1c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d",
    b'"Lu ""the boss"" Li",99,lu@example.com,5,2023-01-01,5f2b1c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d',
]


def _records(items: Sequence[Item]) -> list[tuple[int, bytes]]:
    """Every record the items carry, numbered by the line where it begins."""
    out: list[tuple[int, bytes]] = []
    for item in items:
        assert isinstance(item, Block), item
        out += [(item.first_line + offset, record) for offset, record in split_records(item.data)]
    return out


def test_a_quoted_line_break_keeps_its_record_whole_at_every_chunk_boundary() -> None:
    data = b"\n".join([HEADER, ROWS[0], *MULTILINE, ROWS[2]]) + b"\n"
    expected = [(2, ROWS[0]), (3, MULTILINE[0]), (5, MULTILINE[1]), (7, MULTILINE[2])]
    expected.append((8, ROWS[2]))
    for cut in range(1, len(data)):
        for block_bytes in (1, 64, 4096):
            _, items = _run([data[:cut], data[cut:]], block_bytes=block_bytes)
            assert _records(items) == expected, (cut, block_bytes)
    _, items = _run([data[i : i + 1] for i in range(len(data))], block_bytes=32)
    assert _records(items) == expected


def test_a_stream_cut_inside_a_quoted_value_keeps_only_the_whole_records() -> None:
    data = b"\n".join([HEADER, ROWS[0], MULTILINE[0]]) + b"\n"
    cut = data.index(b"Souza")  # after the quoted line break, before the quote closes
    assembler = LineAssembler(block_bytes=1)
    items = assembler.feed(data[:cut]) + assembler.abandon()
    assert _records(items) == [(2, ROWS[0])]


def test_an_unclosed_quote_costs_its_own_line_and_no_other() -> None:
    stray = b'Ana "Lima,1234,ana@example.com,10,2023-01-01,3f2b1c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d'
    after = [ROWS[0]] * 8
    data = b"\n".join([HEADER, stray, *after]) + b"\n"
    for size in (7, 64, len(data)):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        _, items = _run(chunks, block_bytes=64, max_line_bytes=256)
        unclosed = [i for i in items if isinstance(i, UnclosedQuote)]
        assert [(u.line, u.data) for u in unclosed] == [(2, stray)], size
        blocks = [i for i in items if isinstance(i, Block)]
        assert _records(blocks) == [(n, ROWS[0]) for n in range(3, 11)], size
