"""E-mail composition rate on one core: ``python -m boletos_bench.mail_bench [--seconds S]``.

Messages are composed for rows shaped like the real file (ASCII names) with a PDF the size
of a rendered boleto, and again with accented pt-BR names, whose headers need RFC 2047
encoding. Composition only: no SMTP, no network. Rates are also given per CPU second.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from itertools import cycle

from boletos_bench.pdf_bench import timed
from boletos_testing.mails import DATE, SETTINGS, sample_mails, sample_pdf
from mailer_service.domain import BoletoMail, compose

POOL_SIZE = 2_000


def bench_compose(seconds: float) -> dict[str, float | int]:
    """Compose for about `seconds`: two thirds with the file's names, a third accented."""
    pdf = sample_pdf()
    plain = cycle(sample_mails(POOL_SIZE))
    accented = cycle(sample_mails(POOL_SIZE, accented=True))

    def step(pool: cycle[BoletoMail]) -> Callable[[], int]:
        return lambda: len(compose(next(pool), pdf, SETTINGS, date=DATE))

    step(plain)()  # warm-up
    calls, wall, cpu, produced = timed(seconds * 2 / 3, step(plain))
    accented_calls, accented_wall, accented_cpu, _ = timed(seconds / 3, step(accented))
    return {
        "messages": calls,
        "seconds": round(wall, 3),
        "messages_per_s": round(calls / wall),
        "messages_per_cpu_s": round(calls / cpu) if cpu else 0,
        "accented_messages_per_s": round(accented_calls / accented_wall),
        "accented_messages_per_cpu_s": round(accented_calls / accented_cpu) if accented_cpu else 0,
        "mean_bytes": round(produced / calls),
        "pdf_bytes": len(pdf),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m boletos_bench.mail_bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration (default 3)")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    print(json.dumps(bench_compose(args.seconds), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
