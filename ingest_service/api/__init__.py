"""The gRPC face of the ingest service."""
