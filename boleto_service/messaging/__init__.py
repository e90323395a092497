"""NATS JetStream: the imported debts this service consumes and the events it publishes."""
