"""A whole local deployment in one foreground process: NATS plus every service built so far."""
