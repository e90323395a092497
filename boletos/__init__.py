"""Shared pieces of the boletos services: generated contracts, platform helpers and the CLI."""
