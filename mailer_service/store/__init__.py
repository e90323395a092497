"""The mailer's own database, a store per concern: the delivery queue and its outbox
(deliveries.py), what the bank reported (settlements.py), the notice schedule (schedule.py)
and new due dates (redates.py)."""
