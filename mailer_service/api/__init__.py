"""The gRPC face of the mailer service."""
