"""NATS JetStream: the issued boletos this service consumes and the events it publishes."""
