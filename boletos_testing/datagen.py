"""Synthetic debtors' CSV shaped like the public challenge file, deterministic by seed.

The real file is 1.1M rows of Faker en_US output; the generator reproduces its shape (field
widths, value ranges, name decorations, e-mail styles) from small embedded lists, so tests
and benchmarks exercise the same parsing and validation work without shipping 105 MB.

Run ``python -m boletos_testing.datagen --rows N --out FILE`` to write one by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
from collections.abc import Iterator
from pathlib import Path

HEADER = "name,governmentId,email,debtAmount,debtDueDate,debtId"
DEFAULT_ROWS = 1_100_000
DEFAULT_SEED = 20221005

# Bumped whenever the output for a given (rows, seed) changes, so stale cache files are
# never mistaken for current ones.
FORMAT_VERSION = 1

GOVERNMENT_ID_RANGE = (1000, 9999)
AMOUNT_RANGE = (1000, 10000)
FIRST_DUE_DATE = dt.date(2022, 10, 5)
LAST_DUE_DATE = dt.date(2024, 10, 4)

FEMALE_FIRST = (
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy "
    "Betty Sandra Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Dorothy Amy Kathleen Angela Shirley Emma Brenda "
    "Pamela Nicole Anna Samantha Katherine Christine Debra Rachel Carolyn Janet Maria Olivia "
    "Heather Helen Catherine Diane Julie Victoria Joyce Lauren Kelly Christina Ruth Joan "
    "Virginia Judith Evelyn Hannah Andrea Megan Cheryl Jacqueline Madison Teresa Abigail "
    "Sophia Martha Sara Gloria Janice Kathryn Ann Isabella Judy Charlotte Julia Grace Amber "
    "Alice Jean Denise Frances Danielle Marilyn Natalie Beverly Diana Brittany Theresa "
    "Kayla Alexis Doris Lori Tiffany Leslie Crystal Tammy Erin Valerie Monica Tracy"
).split()

MALE_FIRST = (
    "James Robert John Michael David William Richard Joseph Thomas Christopher Charles "
    "Daniel Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian "
    "Timothy Ronald George Jason Edward Jeffrey Ryan Jacob Nicholas Gary Eric Jonathan "
    "Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank "
    "Raymond Jack Dennis Jerry Tyler Aaron Jose Adam Nathan Henry Zachary Douglas Peter "
    "Kyle Noah Ethan Jeremy Christian Walter Keith Austin Roger Terry Sean Gerald Carl "
    "Dylan Harold Jordan Jesse Bryan Lawrence Arthur Gabriel Bruce Logan Billy Joe Alan "
    "Juan Elijah Willie Albert Wayne Randy Mason Vincent Liam Roy Bobby Caleb Bradley "
    "Russell Lucas Shawn Travis Curtis Cody Todd Marcus Derek Luis"
).split()

LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell "
    "Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes "
    "Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson "
    "Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross "
    "Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson "
    "Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton "
    "Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis "
    "Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez "
    "McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman "
    "Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon "
    "Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox "
    "Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver "
    "Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen "
    "Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll "
    "Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena "
    "Richards Contreras Willis Carpenter Lawrence Sandoval Orr Wolfe Rangel Lin"
).split()

FEMALE_PREFIXES = ("Mrs.", "Ms.", "Miss", "Dr.")
MALE_PREFIXES = ("Mr.", "Dr.")
FEMALE_SUFFIXES = ("MD", "DDS", "PhD", "DVM")
MALE_SUFFIXES = ("Jr.", "Sr.", "I", "II", "III", "IV", "V", "MD", "DDS", "PhD", "DVM")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

_DUE_DATES = tuple(
    (FIRST_DUE_DATE + dt.timedelta(days=d)).isoformat()
    for d in range((LAST_DUE_DATE - FIRST_DUE_DATE).days + 1)
)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"

# uuid4 layout: version nibble 4 at bits 76-79, variant bits 10 at bits 62-63.
_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)


def _name(rng: random.Random) -> tuple[str, str, str]:
    """A Faker-en_US-like full name, plus the first and last name it was built from."""
    female = rng.random() < 0.5
    first = rng.choice(FEMALE_FIRST if female else MALE_FIRST)
    last = rng.choice(LAST)
    # Faker's en_US weights: about 97% plain, the rest with a prefix, a suffix or both.
    roll = rng.random()
    if roll < 0.97:
        return f"{first} {last}", first, last
    prefix = rng.choice(FEMALE_PREFIXES if female else MALE_PREFIXES)
    suffix = rng.choice(FEMALE_SUFFIXES if female else MALE_SUFFIXES)
    if roll < 0.985:
        return f"{prefix} {first} {last}", first, last
    if roll < 0.995:
        return f"{first} {last} {suffix}", first, last
    return f"{prefix} {first} {last} {suffix}", first, last


def _email(rng: random.Random) -> str:
    # The e-mail belongs to an unrelated random person, as in the real file.
    first = rng.choice(FEMALE_FIRST if rng.random() < 0.5 else MALE_FIRST).lower()
    last = rng.choice(LAST).lower()
    style = rng.randrange(4)
    if style == 0:
        user = f"{last}{first}"
    elif style == 1:
        user = f"{first}{last}"
    elif style == 2:
        user = f"{first}{rng.randrange(100):02d}"
    else:
        user = f"{rng.choice(_LETTERS)}{last}"
    return f"{user}@{rng.choice(EMAIL_DOMAINS)}"


def _uuid4(rng: random.Random) -> str:
    h = f"{(rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iter_rows(rows: int, seed: int = DEFAULT_SEED) -> Iterator[str]:
    """Yield ``rows`` data lines (no header, no line ending)."""
    rng = random.Random(seed)
    for _ in range(rows):
        name, _, _ = _name(rng)
        yield ",".join(
            (
                name,
                str(rng.randint(*GOVERNMENT_ID_RANGE)),
                _email(rng),
                str(rng.randint(*AMOUNT_RANGE)),
                rng.choice(_DUE_DATES),
                _uuid4(rng),
            )
        )


def write_csv(path: Path, rows: int, seed: int = DEFAULT_SEED) -> Path:
    """Stream the file to ``path`` atomically: a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n", buffering=1 << 20) as out:
            out.write(HEADER + "\n")
            batch: list[str] = []
            for line in iter_rows(rows, seed):
                batch.append(line)
                if len(batch) == 10_000:
                    out.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                out.write("\n".join(batch) + "\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def cached_csv(rows: int, seed: int = DEFAULT_SEED, cache_dir: Path = Path("bench-data")) -> Path:
    """The file for (rows, seed), generated once and reused by later runs."""
    path = cache_dir / f"debts-v{FORMAT_VERSION}-rows{rows}-seed{seed}.csv"
    if not path.exists():
        write_csv(path, rows, seed)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    write_csv(args.out, args.rows, args.seed)
    print(f"{args.out}: {args.rows} rows, {args.out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
