"""The gRPC face of the boleto service."""
