"""Use cases of the ingest service, written against the store and the domain."""
