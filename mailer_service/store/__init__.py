"""The mailer's own database: one delivery record per debt, and the event outbox."""
