"""Shared kernel of the boletos services: platform plumbing and the generated contracts."""
