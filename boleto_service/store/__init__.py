"""The boleto service's own database: issued boletos, failures, the nosso número sequence
and the event outbox."""
