"""What the CNAB 240 tests of every bank share: a field table row, the first positions of a
detail record, checking a file against its tables, and a retorno line with another code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Field = tuple[int, int, str, str]  # start, end (1-based, inclusive), the manual's field, expected


def detail_start(bank: str, number: int, segment: str, movement: str = "01") -> list[Field]:
    """Positions 1-17 of a detail record, the same in every bank's layout."""
    return [
        (1, 3, "banco", bank),
        (4, 7, "lote", "0001"),
        (8, 8, "registro: detalhe", "3"),
        (9, 13, "nº do registro no lote", f"{number:05d}"),
        (14, 14, "segmento", segment),
        (15, 15, "CNAB", " "),
        (16, 17, "código de movimento", movement),
    ]


def assert_fields(lines: Sequence[str], tables: Mapping[int, Sequence[Field]]) -> None:
    """Every field of every table (by line index) holds what it should."""
    for index, fields in tables.items():
        for start, end, name, expected in fields:
            got = lines[index][start - 1 : end]
            assert got == expected, f"line {index + 1} {start}-{end} {name}: {got!r}"


def with_code(
    lines: Sequence[str], t_index: int, code: str, motivos: str = "", motivos_at: int = 214
) -> list[str]:
    """The lines with the T/U pair at `t_index` given another occurrence code and, when given,
    other motivos (10 positions from `motivos_at` in the T, zero-padded)."""
    changed = list(lines)
    for i in (t_index, t_index + 1):
        changed[i] = changed[i][:15] + code + changed[i][17:]
    if motivos:
        t, at = changed[t_index], motivos_at - 1
        changed[t_index] = t[:at] + motivos.ljust(10, "0") + t[at + 10 :]
    return changed
