"""What the bank reported of each boleto: paid, written off or refused, kept once, so that a
settled boleto leaves the notice schedule and a payment can get its receipt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from boletos.platform.database import writing
from mailer_service.domain.delivery import DeliveryKind, Payment, Settlement
from mailer_service.domain.schedule import NoticeStage
from mailer_service.domain.settlements import BankReport
from mailer_service.store.common import Store, queue_notices, utc_now
from mailer_service.store.tables import deliveries, settlements


@dataclass
class Settled:
    """Bank reports recorded: how many were news, and the receipts they queued."""

    recorded: int = 0
    receipts: int = 0


class SettlementStore(Store):
    def record_bank_reports(self, reports: Sequence[BankReport], receipts: bool) -> Settled:
        """Keeps what the bank reported of each boleto, once: a payment replaces a write-off
        or a refusal, nothing replaces a payment, a repeat changes nothing. Each boleto newly
        settled leaves the notice schedule; with `receipts`, each newly paid boleto whose
        e-mail the mailer holds gets its receipt queued, in the same transaction."""
        if not reports:
            return Settled()
        latest: dict[str, BankReport] = {}
        for report in reports:
            known = latest.get(report.debt_id)
            if known is None or _outranks(report.outcome, known.outcome):
                latest[report.debt_id] = report
        now = utc_now()
        s = settlements.c
        with writing(self.engine) as conn:
            keys = [self._key(d) for d in latest]
            stored = {
                self._id(k): Settlement(o)
                for k, o in conn.execute(sa.select(s.debt_id, s.outcome).where(s.debt_id.in_(keys)))
            }
            news = [
                r for d, r in latest.items() if d not in stored or _outranks(r.outcome, stored[d])
            ]
            if not news:
                return Settled()
            rows = [
                {
                    "debt_id": self._key(r.debt_id),
                    "upload_id": r.upload_id,
                    "outcome": int(r.outcome),
                    "paid_cents": r.paid_cents,
                    "fee_cents": r.fee_cents,
                    "paid_on": r.paid_on,
                    "recorded_at": now,
                }
                for r in news
            ]
            dialect = sqlite if self._sqlite else postgresql
            insert = dialect.insert(settlements)
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["debt_id"],
                    set_={
                        "outcome": insert.excluded.outcome,
                        "paid_cents": insert.excluded.paid_cents,
                        "fee_cents": insert.excluded.fee_cents,
                        "paid_on": insert.excluded.paid_on,
                        "recorded_at": insert.excluded.recorded_at,
                    },
                    # A payment another replica recorded meanwhile is never replaced.
                    where=settlements.c.outcome != int(Settlement.PAID),
                ),
                rows,
            )
            d = deliveries.c
            news_keys = [self._key(r.debt_id) for r in news]
            conn.execute(
                deliveries.update()
                .where(
                    d.debt_id.in_(news_keys),
                    d.notice_stage.in_(
                        [NoticeStage.AWAITING_REMINDER, NoticeStage.AWAITING_OVERDUE_NOTICE]
                    ),
                )
                .values(notice_stage=NoticeStage.DONE)
            )
            queued = 0
            paid = [self._key(r.debt_id) for r in news if r.outcome == Settlement.PAID]
            if receipts and paid:
                queued = queue_notices(
                    conn,
                    DeliveryKind.RECEIPT,
                    conn.execute(
                        sa.select(d.debt_id, d.upload_id, d.line).where(d.debt_id.in_(paid))
                    ).all(),
                    now,
                )
        return Settled(recorded=len(news), receipts=queued)

    def settlement(self, debt_id: str) -> tuple[Settlement, Payment | None] | None:
        s = settlements.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(s.outcome, s.paid_cents, s.paid_on).where(s.debt_id == self._key(debt_id))
            ).first()
        if row is None:
            return None
        payment = Payment(row[1], row[2]) if row[1] is not None and row[2] is not None else None
        return Settlement(row[0]), payment


def _outranks(new: Settlement, old: Settlement) -> bool:
    """Whether a report replaces what is known: only a payment replaces anything."""
    return new == Settlement.PAID and old != Settlement.PAID
