"""Replicated stacks run through the same harness as tests/integration/test_stack.py."""

from tests.integration.test_stack import stack_factory  # noqa: F401 - the fixture, shared
