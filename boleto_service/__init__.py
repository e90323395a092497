"""Boleto service: turns billed debts into FEBRABAN boletos (numbers, PDF, events)."""
