"""The HTTP/JSON gateway: REST, OpenAPI and pages in front of the gRPC services. Stateless;
it holds no privilege of its own and passes each caller's credential through."""
