"""Mailer service: e-mails each issued boleto to its payer and reports what was sent or failed."""
