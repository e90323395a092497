"""Small CSV files for tests, built row by row so each test states what it feeds."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest_service.domain.columns import Rules

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId"


# The day the tests validate on: their due dates (2022-2024, 2027) all lie in its window.
RULES = Rules.on(dt.date(2026, 11, 29))


@dataclass(frozen=True)
class Row:
    name: str
    government_id: str
    email: str
    amount: str
    due: str
    debt_id: str

    def line(self) -> str:
        return ",".join(
            [self.name, self.government_id, self.email, self.amount, self.due, self.debt_id]
        )

    def changed(self, **fields: str) -> Row:
        return replace(self, **fields)


def valid_rows(count: int, seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    first = ["Lisa", "John", "Maria", "Ana", "Paulo", "Joana", "Carlos", "Beatriz"]
    last = ["Wright", "Silva", "Souza", "Oliveira", "Santos", "Lima", "Costa"]
    rows = []
    for _ in range(count):
        name = f"{rng.choice(first)} {rng.choice(last)}"
        rows.append(
            Row(
                name=name,
                government_id=str(rng.randint(1000, 9999)),
                email=f"{name.split()[0].lower()}{rng.randint(1, 99999)}@example.com",
                amount=str(rng.randint(1000, 10000)),
                due=f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                debt_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
        )
    return rows


def csv_bytes(rows: Sequence[Row | str], header: str = HEADER, newline: str = "\n") -> bytes:
    lines = [header, *(r.line() if isinstance(r, Row) else r for r in rows)]
    return (newline.join(lines) + newline).encode()
