"""No personal data where it does not belong: a file with good rows, bad rows, duplicates and
conflicts, a file without its header, and e-mails refused, deferred and accepted, through the
three real services logging JSON at DEBUG; then every line they wrote is searched for each
debtor's full name, CPF/CNPJ and e-mail address."""

from __future__ import annotations

import asyncio
import io
import json
import random
import re
from collections.abc import Iterator

import grpc
import pytest

from boletos.v1 import ingest_pb2, mailer_pb2
from tests.support.boleto import running_boleto
from tests.support.csvdata import HEADER, Row, csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.personal_data import json_log as capturing_json_log
from tests.support.personal_data import leaks, service_lines


def _check_digit(digits: str, weights: list[int]) -> str:
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if rest < 2 else str(11 - rest)


def cpf(rng: random.Random) -> str:
    base = "".join(str(rng.randint(0, 9)) for _ in range(9))
    base += _check_digit(base, list(range(10, 1, -1)))
    return base + _check_digit(base, list(range(11, 1, -1)))


def cnpj(rng: random.Random) -> str:
    first = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    base = "".join(str(rng.randint(0, 9)) for _ in range(8)) + "0001"
    base += _check_digit(base, first)
    return base + _check_digit(base, [6, *first])


def debtors(rng: random.Random) -> list[Row]:
    """Names and ids long and distinct enough that finding one in a log is never chance."""
    rows = []
    for n, row in enumerate(valid_rows(24, seed=2024)):
        surname = rng.choice(["Albuquerque", "Vasconcelos", "Figueiredo", "Cavalcanti"])
        first = row.name.split()[0]
        rows.append(
            row.changed(
                name=f"{first}ízia {surname} de Teste{n:02d}",
                government_id=cpf(rng) if n % 3 else cnpj(rng),
                email=f"{first.lower()}.{surname.lower()}{n}@correio.example",
            )
        )
    return rows


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    with capturing_json_log() as written:
        yield written


async def test_no_log_line_holds_a_debtors_name_id_or_address(
    tmp_path, nats_server, capfd, json_log
):
    rng = random.Random(11)
    good = debtors(rng)
    refused_at_smtp, deferred, echoed = good[1].email, good[2].email, good[3].email
    bad: list[Row | str] = [
        good[4].changed(email="sem.arroba.correio.example", debt_id=f"{good[4].debt_id[:-1]}0"),
        good[5].changed(government_id="123.456", debt_id=f"{good[5].debt_id[:-1]}1"),
        good[6].changed(amount="-10", debt_id=f"{good[6].debt_id[:-1]}2"),
        good[7].changed(due="1900-01-01", debt_id=f"{good[7].debt_id[:-1]}3"),
        good[8].changed(debt_id="not-a-uuid"),
        # A header injection attempt: a quoted name with a line break and a Bcc.
        good[9].changed(name=f'"{good[9].name}\r\nBcc: {good[10].email}"', debt_id="x"),
        good[11].line() + ",one too many",
    ]
    deferred_once: set[str] = set()

    def reply(recipient: str) -> str | None:
        if recipient == refused_at_smtp:
            return "550 5.1.1 no such user"
        if recipient == echoed:
            # Servers repeat the address in their replies; it must not reach a log.
            return f"553 5.1.3 <{recipient}>: Recipient address rejected"
        if recipient == deferred and recipient not in deferred_once:
            deferred_once.add(recipient)
            return f"451 4.7.1 <{recipient}>: greylisted, try again"
        return None

    sink = Sink(reply=reply)
    with smtp_sink(sink) as smtp:
        async with (
            running_ingest(f"sqlite:///{tmp_path / 'i.db'}", nats_server.url) as ingest,
            running_boleto(f"sqlite:///{tmp_path / 'b.db'}", nats_server.url) as boleto,
            running_mailer(
                f"sqlite:///{tmp_path / 'm.db'}",
                nats_server.url,
                boleto.address,
                smtp.port,
                MAIL_RETRY_BASE_SECONDS="0.2",
            ) as mailer,
        ):
            first = await upload(ingest.stub, csv_bytes([*good, *bad]), file_name="cobranca.csv")
            assert first.rejected == len(bad)
            progress = await settled(ingest.stub, first.upload_id)
            assert progress.emails_sent == len(good) - 2
            assert progress.emails_failed == 2

            # The same file again (duplicates), and one debt changed (a conflict).
            conflict = good[12].changed(email=f"outro.{good[12].email}")
            again = await upload(ingest.stub, csv_bytes([*good, conflict]))
            assert (again.accepted, again.duplicates, again.conflicts) == (0, len(good), 1)

            # A file without its header: its first row is where a header should be.
            headless = "\n".join(row.line() for row in good[13:16]).encode() + b"\n"
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await upload(ingest.stub, headless)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            listed = await ingest.stub.ListUploads(ingest_pb2.ListUploadsRequest(page_size=10))
            stored = await mailer.stub.ListDeliveries(
                mailer_pb2.ListDeliveriesRequest(upload_id=first.upload_id)
            )
            # Retry what failed: the same replies again, logged again.
            await mailer.stub.RetryFailed(mailer_pb2.RetryFailedRequest(upload_id=first.upload_id))
            await asyncio.sleep(2)

    printed = capfd.readouterr()
    lines = service_lines(
        [*json_log.getvalue().splitlines(), *(printed.out + printed.err).splitlines()]
    )
    events = [line for line in lines if line.startswith("{")]
    # Each service's own lines, not a count padded by gRPC's DEBUG chatter (kept out: it
    # can deadlock, tests/conftest.py).
    writers = {json.loads(line)["logger"] for line in events}
    assert {"ingest", "boleto", "mailer", "audit"} <= writers, writers
    assert len(events) > 50, "the services' JSON log lines were not captured"
    shown_to_people = [
        refused.value.details(),
        *(str(u) for u in listed.uploads),
        *(d.last_error for d in stored.deliveries),
    ]
    everything = [*lines, *shown_to_people]
    assert leaks([*good, conflict], everything) == []
    # Masked, the addresses still tell a person which one failed.
    assert any(re.search(r"\w\*\*\*@correio\.example", line) for line in everything)
    assert HEADER.split(",")[0] in refused.value.details()
