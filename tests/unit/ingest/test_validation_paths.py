"""The fast path is an optimisation only: it must agree with the careful path on every row."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ingest_service.domain.columns import REQUIRED_COLUMN_NAMES as COLUMN_NAMES
from ingest_service.domain.errors import ErrorCode, RowError
from ingest_service.domain.header import Header, parse_header
from ingest_service.domain.lines import Block
from ingest_service.domain.validation import RowValidator, ValidatedBlock, validate_row
from tests.support.csvdata import RULES

MAX_LINE = 1024
CANONICAL_HEADER = ",".join(COLUMN_NAMES).encode()


def records(data: bytes) -> list[tuple[int, bytes]]:
    """RFC 4180 records, found the plain way: byte by byte, a quote toggles being inside a
    quoted value, and only a line break outside one ends a record."""
    found: list[tuple[int, bytes]] = []
    start = line = first = 0
    inside = False
    for at, byte in enumerate(data):
        if byte == ord('"'):
            inside = not inside
        elif byte == ord("\n"):
            line += 1
            if not inside:
                found.append((first, data[start:at]))
                start, first = at + 1, line
    if start < len(data):
        # A quote left open runs to the end; its last line break ends it all the same.
        rest = data[start:]
        found.append((first, rest[:-1] if rest.endswith(b"\n") else rest))
    return found


def careful(header: Header, block: Block, max_line: int) -> ValidatedBlock:
    """The reference: each record judged alone by validate_row."""
    out = ValidatedBlock()
    for offset, raw in records(block.data):
        line = block.first_line + offset
        if len(raw) > max_line:
            out.rows += 1
            out.rejected += 1
            out.errors.append(RowError(line, "", ErrorCode.LINE_TOO_LONG, ""))
            continue
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            out.rows += 1
            out.rejected += 1
            out.errors.append(RowError(line, "", ErrorCode.INVALID_ENCODING, ""))
            continue
        if not text.strip():
            continue
        out.rows += 1
        result = validate_row(text, line, header, RULES)
        if isinstance(result, tuple):
            out.valid.append(result)
        else:
            out.rejected += 1
            out.errors.extend(result)
    return out


def _error_key(error: RowError) -> tuple:
    # The reference does not word the two line-level messages; everything else must match.
    generic = error.code in (ErrorCode.LINE_TOO_LONG, ErrorCode.INVALID_ENCODING)
    return error.line, error.column, error.code, None if generic else error.message


def assert_same(got: ValidatedBlock, want: ValidatedBlock) -> None:
    assert got.valid == want.valid
    assert [_error_key(e) for e in got.errors] == [_error_key(e) for e in want.errors]
    assert (got.rows, got.rejected) == (want.rows, want.rejected)


# --- generators ------------------------------------------------------------------------------

_uuids = st.uuids().map(str)
_digits = st.text("0123456789", min_size=1, max_size=14)
_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)

# Values the fast expression admits; some still fail a rule it cannot express.
clean = {
    "name": st.one_of(
        st.from_regex(r"[A-Za-z][A-Za-z .'-]{0,20}[a-z]", fullmatch=True),
        st.sampled_from(["José da Silva", "a" * 200, "Ana Maria", "X", "Zoë O'Brien-Müller"]),
    ),
    "governmentId": st.one_of(_digits, st.sampled_from(["11144477735", "00000000000191"])),
    "email": st.one_of(
        st.builds(
            lambda user, host, tld: f"{user}@{host}.{tld}",
            st.from_regex(r"[a-z0-9.+_-]{1,10}", fullmatch=True),
            _label,
            _label,
        ),
        # Admitted by the expression, refused for its length.
        st.just("a" * 64 + "@" + ".".join(["b" * 63] * 3) + ".com"),
    ),
    "debtAmount": st.one_of(
        st.from_regex(r"[0-9]{1,8}(?:\.[0-9]{1,2})?", fullmatch=True),
        st.sampled_from(["0", "0.00", "00000000.0", "99999999.99", "7811"]),
    ),
    "debtDueDate": st.one_of(
        st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
        st.sampled_from(["2023-02-30", "2023-13-01", "2023-00-10", "0000-01-01"]),
    ),
    "debtId": st.one_of(_uuids, _uuids.map(str.upper)),
    "address": st.one_of(
        st.from_regex(r"[A-Za-z][A-Za-z0-9 .'/-]{0,30}[0-9a-z]", fullmatch=True),
        st.sampled_from(["Rua São João, 12"[:12], "Av. Paulista 1578 ap. 4", "a" * 200]),
    ),
    "district": st.one_of(
        st.just(""), st.sampled_from(["Centro", "Bela Vista", "Jardim São Paulo", "b" * 100])
    ),
    "zipCode": st.one_of(
        st.from_regex(r"[0-9]{5}-?[0-9]{3}", fullmatch=True), st.just("00000-000")
    ),
    "city": st.sampled_from(["São Paulo", "Rio de Janeiro", "Itu", "c" * 100]),
    "state": st.sampled_from(["SP", "RJ", "DF", "TO"]),
    # Admitted by the expression; some break a rule across the row (not less than the
    # amount, after the due date, one without the other).
    "discountAmount": st.sampled_from(["", "1.50", "10", "0", "99999999.99"]),
    "discountUntil": st.one_of(
        st.just(""), st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}")
    ),
}

_noise = st.text(
    alphabet=st.sampled_from(
        list("aZ09 ,.\"'-@+\t\ré_/:{}") + ["\x00", "\u00a0", "\u2028", "\x1b", "\u202e"]
    ),
    max_size=12,
)
messy = {
    "name": st.sampled_from(
        ["", "  ", '"Smith, John"', '"Smith, John', 'Jo"hn', " John ", "a" * 201, '""']
        # What would forge a log line, colour a terminal or reverse an e-mail's To name.
        + ["Ana\tMaria", "Ana\x00Maria", "Ana\x1b[31mMaria", "\u202eairaM anA", "Ana\u2066X"]
        + ["Ana\x7f", "\u202aAna", "Ana\u2069", '"Ana\x07Maria"', "a" * 199 + "\u202e"]
    ),
    "governmentId": st.sampled_from(
        ["", "abc", "123456789012345", "123.456.789-09", " 123 ", "１２３"]
    ),
    "email": st.sampled_from(
        ["john.example.com", "john doe@example.com", "john@example", " a@b.co ", "A@B.CO"]
    ),
    "debtAmount": st.sampled_from(
        ['"12,50"', "abc", "1e3", "-5", "1.234", "1.230", "100000000.00", "+5", " 7 ", "1."]
    ),
    "debtDueDate": st.sampled_from(["2023/01/01", "01-02-2023", " 2023-01-01", "2023-1-1"]),
    "debtId": st.sampled_from(
        [
            "not-a-uuid",
            "",
            "{1adb6ccf-ff16-467f-bea7-5f05d494280f}",
            "1adb6ccfff16467fbea75f05d4942",
        ]
    ),
    "address": st.sampled_from(["", " ", "a" * 201, "Rua\x07 B", "Rua \u202eB", '"Rua A, 1"']),
    "district": st.sampled_from(["  ", "d" * 101, "Bairro\x1b[31m"]),
    "zipCode": st.sampled_from(["", "1310100", "01310 100", "01.310-100", "ABCDE-FGH"]),
    "city": st.sampled_from(["", "c" * 101, "Cidade\u2066"]),
    "state": st.sampled_from(["", "sp", "Sp", "XX", "São Paulo", "S"]),
    "discountAmount": st.sampled_from(["-1", "1,50", "abc", " 2 ", "0.001"]),
    "discountUntil": st.sampled_from(["2023-02-30", "31/12/2026", " 2026-01-01", "x"]),
}


@st.composite
def field_values(draw: st.DrawFn, column: str) -> str:
    choice = draw(st.integers(0, 9))
    if choice < 7:
        return draw(clean[column])
    if choice < 9:
        return draw(messy[column])
    return draw(_noise)


@st.composite
def row_lines(draw: st.DrawFn, order: tuple[str, ...], clean_only: bool = False) -> bytes:
    if clean_only:
        text = ",".join(draw(clean[c]) for c in order)
        return (text + draw(st.sampled_from(["", " ", "\t ", "\r", "  \r"]))).encode()
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return draw(st.sampled_from([b"", b"   ", b"\t", b"\r"]))
    if kind == 1:
        good = ",".join(draw(clean[c]) for c in order).encode()
        cut = draw(st.integers(0, len(good)))
        return good[:cut] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9t\xe9"])) + good[cut:]
    values = [draw(field_values(c)) for c in order]
    if kind == 2 and values:
        values.pop(draw(st.integers(0, len(values) - 1)))
    if kind == 3:
        values.append(draw(_noise))
    text = ",".join(values)
    text += draw(st.sampled_from(["", "", " ", "\t ", "\r", "  \r"]))
    return text.encode()


@st.composite
def headers(draw: st.DrawFn) -> tuple[tuple[str, ...], bytes]:
    columns = COLUMN_NAMES
    if draw(st.booleans()):
        district = ("district",) if draw(st.booleans()) else ()
        columns += ("address", "zipCode", "city", "state", *district)
    if draw(st.booleans()):
        columns += ("discountAmount", "discountUntil")
    order = tuple(draw(st.permutations(columns)))
    spelled = [draw(st.sampled_from([c, c.upper(), c.lower(), f" {c} "])) for c in order]
    return order, ",".join(spelled).encode()


def _filler(order: tuple[str, ...]) -> list[bytes]:
    rows = []
    for i in range(16):
        values = {
            "name": f"Filler Person {i}",
            "governmentId": str(10**i),
            "email": f"filler{i}@example.com",
            "debtAmount": f"{i + 1}.{i:02d}",
            "debtDueDate": f"2024-02-{i + 14:02d}",
            "debtId": str(uuid.UUID(int=i + 1)),
            "address": f"Rua {i}, {i * 7}",
            "district": "Centro" if i % 2 else "",
            "zipCode": f"{i + 1:05d}-{i:03d}",
            "city": "Campinas",
            "state": "SP",
            "discountAmount": "0.50" if i % 3 else "",
            "discountUntil": f"2024-02-{i + 1:02d}" if i % 3 else "",
        }
        rows.append(",".join(values[c] for c in order).encode())
    return rows


@st.composite
def blocks(draw: st.DrawFn) -> tuple[bytes, Block]:
    order, header_line = draw(headers())
    # Blocks of rows the expression admits keep the whole block on the fast path.
    clean_only = draw(st.booleans())
    lines = draw(st.lists(row_lines(order, clean_only), min_size=1, max_size=12))
    if clean_only or draw(st.booleans()):
        # Enough clean rows to make the block longer than a line may be, which is what
        # sends it down the fast path.
        filler = _filler(order)[: draw(st.integers(12, 16))]
        at = draw(st.integers(0, len(lines)))
        lines[at:at] = filler
    assume(all(len(line) <= MAX_LINE for line in lines))
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data += b"\n"
    return header_line, Block(draw(st.integers(2, 10**7)), data)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks())
@example(
    (
        b"debtId,name,email,governmentId,debtDueDate,debtAmount",
        Block(
            2,
            b"".join(
                b"1ADB6CCF-FF16-467F-BEA7-5F05D494280F,Ana,a@b.co,123,2023-02-30,0.00\n"
                for _ in range(20)
            ),
        ),
    )
)
def test_block_agrees_with_the_careful_path_line_by_line(case: tuple[bytes, Block]) -> None:
    header_line, block = case
    header = parse_header(header_line)
    validator = RowValidator(header, RULES, MAX_LINE)
    got = validator.validate_block(block)
    assert_same(got, careful(header, block, MAX_LINE))

    # Each record judged in a block of its own gives the same answers as the mixed block.
    alone = ValidatedBlock()
    for offset, raw in records(block.data):
        if not raw:
            continue
        part = RowValidator(header, RULES, MAX_LINE).validate_block(
            Block(block.first_line + offset, raw + b"\n")
        )
        alone.rows += part.rows
        alone.rejected += part.rejected
        alone.valid += part.valid
        alone.errors += part.errors
    assert got.valid == alone.valid
    assert got.errors == alone.errors
    assert (got.rows, got.rejected) == (alone.rows, alone.rejected)


def _good(i: int) -> str:
    due = f"2023-03-{1 + i % 28:02d}"
    return f"Person {i},{1000 + i},p{i}@example.com,{i + 1}.50,{due},{uuid.UUID(int=i + 1000)}"


MIXED = [
    _good(0),
    _good(1),
    "Ana,123,ana@example.com,0.00,2023-01-01," + str(uuid.UUID(int=99)),  # zero, fast-shaped
    _good(2),
    "Ana,123,ana@example.com,10,2023-02-30," + str(uuid.UUID(int=98)),  # no such day
    "",
    '"Smith, John",123,s@example.com,10,2023-01-01,' + str(uuid.UUID(int=97)),
    "Bad,12a,nope,-1,2023/01/01,not-a-uuid",
    _good(3),
    "too,few,fields",
    _good(4).upper(),
    *[_good(i) for i in range(5, 20)],
]


def test_mixed_block_on_the_fast_path_equals_each_line_alone() -> None:
    header = parse_header(CANONICAL_HEADER)
    data = "\n".join(MIXED).encode() + b"\n"
    # A limit below the block's size but above any line's lets the block take the fast path.
    max_line = 200
    assert len(data) > max_line >= max(len(line) for line in MIXED)
    got = RowValidator(header, RULES, max_line).validate_block(Block(2, data))
    separately = [
        RowValidator(header, RULES, max_line).validate_block(Block(2 + i, line.encode() + b"\n"))
        for i, line in enumerate(MIXED)
    ]
    assert got.valid == [v for part in separately for v in part.valid]
    assert got.errors == [e for part in separately for e in part.errors]
    assert got.rows == sum(p.rows for p in separately) == len(MIXED) - 1
    assert got.rejected == sum(p.rejected for p in separately) == 4
    assert [e.line for e in got.errors] == [4, 6, 9, 9, 9, 9, 9, 11]
    assert (12, str(uuid.UUID(int=1004))) in [(v.line, v.debt_id) for v in got.valid]


def test_fast_path_with_shuffled_columns_rebuilds_rows_for_the_careful_path() -> None:
    # Rows the expression admits but a later rule refuses go back to validate_row; with the
    # columns out of canonical order the row must be put back in file order first.
    header_line = b"debtAmount,debtId,email,name,debtDueDate,governmentId"
    header = parse_header(header_line)
    good = [
        f"1.00,{uuid.UUID(int=i + 1000)},a{i}@example.com,Name {i},2023-01-01,{i}"
        for i in range(20)
    ]
    bad = [
        f"0.00,{uuid.UUID(int=100)},z@example.com,Zed,2023-01-01,1",
        f"5,{uuid.UUID(int=101)},z@example.com,Zed,2023-04-31,1",
    ]
    lines = [*good[:10], *bad, *good[10:]]
    block = Block(2, "\n".join(lines).encode())
    assert len(block.data) > 100
    got = RowValidator(header, RULES, 100).validate_block(block)
    assert_same(got, careful(header, block, 100))
    assert [(e.line, e.column, e.code) for e in got.errors] == [
        (12, "debtAmount", ErrorCode.AMOUNT_NOT_POSITIVE),
        (13, "debtDueDate", ErrorCode.DUE_DATE_INVALID),
    ]
    assert [v.line for v in got.valid] == [n for n in range(2, 24) if n not in (12, 13)]
