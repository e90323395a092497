"""Ingest service: receives debtors' CSV files, validates every row and stores accepted debts."""
