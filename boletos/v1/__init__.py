# Generated protobuf and gRPC modules for the boletos.v1 package land here (make protos).
