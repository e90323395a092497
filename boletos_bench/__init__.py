"""Benchmarks run against the real services on generated data of the real input's shape."""
