"""The whole pipeline, then the operator's view of it: the upload's report line for line,
and one notice (e-mail with the report attached, webhook) once the upload settles."""

from __future__ import annotations

import asyncio
import csv
import io
import sys

from boletos.platform.nats_streams import SUBJECT_UPLOAD_COMPLETED
from tests.integration.ingest.test_notifications import OPS, notify_env, wait_for
from tests.support.boleto import running_boleto
from tests.support.csvdata import csv_bytes, valid_rows
from tests.support.ingest import running_ingest, settled, stream_message_count, upload
from tests.support.mailer import Sink, running_mailer, smtp_sink
from tests.support.webhook import Hook, webhook_endpoint


async def test_report_and_notice_of_an_upload_through_the_whole_pipeline(databases, nats_server):
    ingest_db, boleto_db, mailer_db = databases
    rows = valid_rows(20, seed=51)
    bounced = rows[6]
    # Line 12 repeats line 5; line 13 is rejected, its (valid) debtId still named.
    lines = [*rows[:10], rows[3], rows[10].changed(government_id="12.345"), *rows[11:]]
    data = csv_bytes(lines)
    expected = [(i + 2, r.debt_id) for i, r in enumerate(lines)]
    outcomes = ["accepted"] * 10 + ["duplicate", "rejected"] + ["accepted"] * 9
    debtors = Sink(reply=lambda rcpt: "550 5.1.1 no such user" if rcpt == bounced.email else None)
    ops, hook = Sink(), Hook()
    with (
        smtp_sink(debtors) as debtors_smtp,
        smtp_sink(ops) as ops_smtp,
        webhook_endpoint(hook) as url,
    ):
        async with (
            running_ingest(ingest_db, nats_server.url, **notify_env(ops_smtp.port, url)) as ingest,
            running_boleto(boleto_db, nats_server.url) as boleto,
            running_mailer(mailer_db, nats_server.url, boleto.address, debtors_smtp.port),
        ):
            summary = await upload(ingest.stub, data)
            uid = summary.upload_id
            progress = await settled(ingest.stub, uid)
            assert (progress.emails_sent, progress.emails_failed) == (18, 1)
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "boletos_cli", "--ingest", ingest.address, "report", uid,
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            stdout, _ = await asyncio.wait_for(cli.communicate(), 60)
            assert cli.returncode == 0
            await wait_for(lambda: ops.messages and hook.posts)
            await asyncio.sleep(1)

    printed = list(csv.DictReader(io.StringIO(stdout.decode())))
    assert len(printed) == summary.rows == len(lines)
    assert [(int(r["line"]), r["debtId"]) for r in printed] == expected
    assert [r["outcome"] for r in printed] == outcomes
    stored = [r for r in printed if r["outcome"] in ("accepted", "duplicate")]
    assert all(r["boletoStatus"] == "issued" and r["nossoNumero"].isdigit() for r in stored)
    assert len({r["nossoNumero"] for r in stored}) == 19  # the duplicate shares line 5's
    assert printed[10]["nossoNumero"] == printed[3]["nossoNumero"]
    by_id = {r["debtId"]: r for r in printed if r["outcome"] == "accepted"}
    assert by_id[bounced.debt_id]["emailStatus"] == "failed"
    assert "no such user" in by_id[bounced.debt_id]["error"]
    assert [r["emailStatus"] for r in by_id.values()].count("sent") == 18
    assert "governmentId" in printed[11]["error"]

    assert await stream_message_count(nats_server.url, subject=SUBJECT_UPLOAD_COMPLETED) == 1
    (notice,) = ops.messages
    assert ops.recipients == [OPS]
    (attachment,) = list(notice.iter_attachments())
    assert list(csv.DictReader(io.StringIO(attachment.get_content()))) == printed
    plain = notice.get_body(preferencelist=("plain",))
    assert plain is not None
    body = plain.get_content()
    assert f"boletos retry {uid}" in body and bounced.debt_id in body
    (post,) = hook.posts
    assert (post["upload_id"], post["emails_sent"], post["emails_failed"]) == (uid, 18, 1)
    assert [f["debt_id"] for f in post["failures"]] == [bounced.debt_id]
