"""The contract's KeyRole values and the roles table's Role, both ways: what keys and callers
are described with over the wire."""

from __future__ import annotations

from boletos.platform.access.roles import Role
from boletos.v1 import keys_pb2

ROLE_OF: dict[keys_pb2.KeyRole, Role] = {
    keys_pb2.KEY_ROLE_UPLOADER: Role.UPLOADER,
    keys_pb2.KEY_ROLE_VIEWER: Role.VIEWER,
    keys_pb2.KEY_ROLE_OPERATOR: Role.OPERATOR,
    keys_pb2.KEY_ROLE_ADMIN: Role.ADMIN,
    keys_pb2.KEY_ROLE_SERVICE: Role.SERVICE,
}
PROTO_ROLE: dict[Role, keys_pb2.KeyRole] = {role: number for number, role in ROLE_OF.items()}
