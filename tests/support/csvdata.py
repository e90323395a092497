"""Small CSV files for tests, built row by row so each test states what it feeds."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest_service.domain.columns import Rules

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId"
ADDRESS_HEADER = HEADER + ",address,district,zipCode,city,state"


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
    # Written only under ADDRESS_HEADER.
    address: str = ""
    district: str = ""
    zip_code: str = ""
    city: str = ""
    state: str = ""

    def line(self, with_address: bool = False) -> str:
        values = [self.name, self.government_id, self.email, self.amount, self.due, self.debt_id]
        if with_address:
            values += [self.address, self.district, self.zip_code, self.city, self.state]
        return ",".join(f'"{v}"' if "," in v else v for v in values)

    def with_address(self, n: int) -> Row:
        """The row with the n-th of a set of real-looking addresses (accents included)."""
        street, district, zip_code, city, state = ADDRESSES[n % len(ADDRESSES)]
        return replace(
            self,
            address=f"{street}, {100 + n}",
            district=district,
            zip_code=zip_code,
            city=city,
            state=state,
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


ADDRESSES = (
    ("Rua São Bento", "Centro", "01011-100", "São Paulo", "SP"),
    ("Avenida Atlântica", "Copacabana", "22021001", "Rio de Janeiro", "RJ"),
    ("Rua da Aurora", "Boa Vista", "50050-000", "Recife", "PE"),
    ("Avenida Afonso Pena", "", "30130-001", "Belo Horizonte", "MG"),
)


def csv_bytes(rows: Sequence[Row | str], header: str | None = None, newline: str = "\n") -> bytes:
    """The rows under `header`; by default the address columns are there when a row has one."""
    if header is None:
        with_address = any(isinstance(r, Row) and r.address for r in rows)
        header = ADDRESS_HEADER if with_address else HEADER
    with_address = header == ADDRESS_HEADER
    lines = [header, *(r.line(with_address) if isinstance(r, Row) else r for r in rows)]
    return (newline.join(lines) + newline).encode()
