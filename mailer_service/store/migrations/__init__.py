"""The mailer store's schema history (Alembic); see boletos/platform/migrations.py."""
