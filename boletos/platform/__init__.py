"""Plumbing every service shares: configuration, logging, gRPC serving, NATS."""
