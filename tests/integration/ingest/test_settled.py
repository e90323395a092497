"""An upload is settled by one definition, read two ways: Upload.settled in the domain and
the SQL that announces it. They must never disagree."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from ingest_service.domain.upload import UploadState
from ingest_service.service.events import upload_completed
from ingest_service.store.completion import complete_settled
from ingest_service.store.engine import create_engine, upgrade_schema
from ingest_service.store.repository import IngestStore
from ingest_service.store.tables import uploads


def test_the_store_announces_exactly_the_uploads_the_domain_calls_settled(database_url):
    engine = create_engine(database_url)
    upgrade_schema(engine)
    store = IngestStore(engine, upload_completed)
    expected = {}
    for state, issued, failed, sent, lost in itertools.product(
        list(UploadState), range(3), range(2), range(3), range(2)
    ):
        upload = store.create_upload("f.csv", "")
        with engine.begin() as conn:
            conn.execute(
                uploads.update()
                .where(uploads.c.upload_no == upload.upload_no)
                .values(
                    state=int(state),
                    accepted=2,
                    boletos_issued=issued,
                    boletos_failed=failed,
                    emails_sent=sent,
                    emails_failed=lost,
                )
            )
        stored = store.get_upload(upload.upload_id)
        assert stored is not None
        expected[upload.upload_id] = stored.settled
    with engine.begin() as conn:
        announced = set(complete_settled(conn, sa.true(), upload_completed))
    assert announced == {uid for uid, settled in expected.items() if settled}
    # Heard of by e-mail only, the boletos are still on their way: not settled yet.
    assert sum(expected.values()) < len(expected)
    engine.dispose()
