"""The generated file tests and benchmarks use has the shape of the public challenge file.

Shape as described for that file: 1.1M rows, header name,governmentId,email,debtAmount,
debtDueDate,debtId, LF endings, no quoting, 4-digit governmentIds 1000-9999, integer amounts
1000-10000, ISO due dates 2022-10-05..2024-10-04, uuid4 debtIds, Faker en_US names.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest

from boletos_testing.datagen import (
    FEMALE_PREFIXES,
    FEMALE_SUFFIXES,
    HEADER,
    MALE_PREFIXES,
    MALE_SUFFIXES,
    cached_csv,
    iter_rows,
    write_csv,
)

ROWS = 3000
NAME_WORD = re.compile(r"^[A-Z][A-Za-z]*\.?$")
EMAIL = re.compile(r"^[a-z]+[0-9]{0,2}@example\.(com|net|org)$")


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("datagen") / "debts.csv", ROWS, seed=7)


def test_header_line_endings_and_row_count(csv_file: Path) -> None:
    data = csv_file.read_bytes()
    assert b"\r" not in data
    assert b'"' not in data
    assert data.endswith(b"\n")
    lines = data.decode("utf-8").split("\n")[:-1]
    assert lines[0] == HEADER
    assert len(lines) == ROWS + 1


def test_every_row_has_the_real_files_field_shapes(csv_file: Path) -> None:
    lines = csv_file.read_text(encoding="utf-8").splitlines()[1:]
    ids = set()
    for line in lines:
        fields = line.split(",")
        assert len(fields) == 6, line
        name, government_id, email, amount, due_date, debt_id = fields

        assert name == name.strip() and all(NAME_WORD.match(w) for w in name.split()), line
        assert 2 <= len(name.split()) <= 4, line
        assert re.fullmatch(r"[0-9]{4}", government_id) and 1000 <= int(government_id) <= 9999
        assert EMAIL.match(email), line
        assert re.fullmatch(r"[0-9]+", amount) and 1000 <= int(amount) <= 10000, line
        assert dt.date(2022, 10, 5) <= dt.date.fromisoformat(due_date) <= dt.date(2024, 10, 4)
        parsed = uuid.UUID(debt_id)
        assert str(parsed) == debt_id and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        ids.add(debt_id)
    assert len(ids) == len(lines)


def test_values_spread_over_their_ranges(csv_file: Path) -> None:
    rows = [line.split(",") for line in csv_file.read_text().splitlines()[1:]]
    amounts = [int(r[3]) for r in rows]
    dates = sorted(r[4] for r in rows)
    assert min(amounts) < 1100 and max(amounts) > 9900
    assert dates[0] < "2022-11-01" and dates[-1] > "2024-09-01"


def test_some_names_carry_faker_style_titles() -> None:
    titles = set(FEMALE_PREFIXES + MALE_PREFIXES + FEMALE_SUFFIXES + MALE_SUFFIXES)
    names = [line.split(",")[0] for line in iter_rows(20_000, seed=1)]
    decorated = [n for n in names if titles & {n.split()[0], n.split()[-1]}]
    # Faker's en_US weights put about 3% of names in these forms.
    assert 0.01 < len(decorated) / len(names) < 0.06


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", 500, seed=11).read_bytes()
    b = write_csv(tmp_path / "b.csv", 500, seed=11).read_bytes()
    c = write_csv(tmp_path / "c.csv", 500, seed=12).read_bytes()
    assert a == b
    assert a != c
    # A prefix of a longer file: the row count does not change the rows themselves.
    assert list(iter_rows(100, seed=11)) == list(iter_rows(500, seed=11))[:100]


def test_size_per_row_matches_the_real_file() -> None:
    # The real file: about 105 MB for 1.1M rows, so roughly 95 bytes a row.
    lines = list(iter_rows(5000, seed=3))
    per_row = sum(len(line) + 1 for line in lines) / len(lines)
    assert 85 <= per_row <= 105


def test_cache_is_keyed_by_rows_and_seed(tmp_path: Path) -> None:
    first = cached_csv(50, 5, tmp_path)
    assert cached_csv(50, 5, tmp_path) == first
    assert cached_csv(51, 5, tmp_path) != first
    assert cached_csv(50, 6, tmp_path) != first
    assert len(list(tmp_path.iterdir())) == 3
    mtime = first.stat().st_mtime_ns
    cached_csv(50, 5, tmp_path)
    assert first.stat().st_mtime_ns == mtime
