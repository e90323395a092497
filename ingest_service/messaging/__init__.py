"""NATS JetStream: events this service publishes (through its outbox) and consumes."""
