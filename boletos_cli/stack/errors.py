"""The one error every part of the local stack reports with."""

from __future__ import annotations


class StackError(Exception):
    """The stack cannot start or keep running; the message says which part and why."""
