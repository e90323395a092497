"""What tests and benchmarks run against: generated data of the real input's shape, sample
records, and real child processes (nats-server, a service) on free ports.

The benchmarks import it and the tests import it; it imports neither, so a test never
depends on a benchmark's code to get its data or its servers.
"""
