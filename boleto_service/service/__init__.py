"""Use cases of the boleto service, written against the store and the domain."""
