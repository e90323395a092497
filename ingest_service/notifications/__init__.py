"""Tells operators when an upload settles, and when a message needs a person."""
