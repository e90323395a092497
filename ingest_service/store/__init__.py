"""The ingest service's own database: uploads, known debts, row errors and the event outbox."""
