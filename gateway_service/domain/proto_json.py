"""The protos' messages as JSON, both ways, and as the JSON Schemas the OpenAPI document
shows: one source of truth for the wire format, so that a REST client reads exactly the
proto3 JSON mapping (lowerCamelCase names, 64-bit integers as strings, enums by name,
Timestamps in RFC 3339) that `buf breaking` protects. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

F = FieldDescriptor
_SCALARS: dict[int, dict[str, Any]] = {
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
    F.TYPE_DOUBLE: {"type": "number"},
    F.TYPE_FLOAT: {"type": "number"},
    F.TYPE_INT32: {"type": "integer", "format": "int32"},
    F.TYPE_SINT32: {"type": "integer", "format": "int32"},
    F.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    F.TYPE_UINT32: {"type": "integer", "format": "int32", "minimum": 0},
    F.TYPE_FIXED32: {"type": "integer", "format": "int32", "minimum": 0},
    # The proto3 JSON mapping writes 64-bit integers as strings (JavaScript loses precision).
    F.TYPE_INT64: {"type": "string", "format": "int64"},
    F.TYPE_SINT64: {"type": "string", "format": "int64"},
    F.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    F.TYPE_UINT64: {"type": "string", "format": "uint64"},
    F.TYPE_FIXED64: {"type": "string", "format": "uint64"},
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?\d+(\.\d+)?s$"},
}


def to_json(message: Message) -> dict[str, Any]:
    """Every field, defaults included, so a client never has to know proto3's elisions."""
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def from_json(message: Message, body: Mapping[str, Any]) -> None:
    """Merges `body` into `message`; raises json_format.ParseError naming the bad field."""
    json_format.ParseDict(dict(body), message)


def from_params(message: Message, params: Mapping[str, str | list[str]]) -> None:
    """Path and query parameters (strings) into `message`'s scalar fields, by their JSON
    names or proto names; raises ValueError naming a parameter that fits no field."""
    descriptor = message.DESCRIPTOR
    by_name: dict[str, Any] = {f.json_name: f for f in descriptor.fields}
    by_name |= {f.name: f for f in descriptor.fields}
    converted: dict[str, Any] = {}
    for name, raw in params.items():
        described = by_name.get(name)
        if described is None or described.type == F.TYPE_MESSAGE:
            raise ValueError(f"{name}: no such parameter")
        values = raw if isinstance(raw, list) else [raw]
        parsed = [_scalar(described, name, v) for v in values]
        if described.is_repeated:
            converted[described.json_name] = parsed
        elif len(parsed) > 1:
            raise ValueError(f"{name}: given more than once")
        else:
            converted[described.json_name] = parsed[0]
    try:
        json_format.ParseDict(converted, message)
    except json_format.ParseError as exc:
        raise ValueError(str(exc)) from None


def _scalar(described: FieldDescriptor, name: str, raw: str) -> Any:
    if described.type == F.TYPE_BOOL:
        if raw not in ("true", "false"):
            raise ValueError(f"{name}: must be true or false")
        return raw == "true"
    if described.type in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32, F.TYPE_UINT32):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name}: must be a whole number") from None
    # Strings, enums by name, 64-bit integers: proto3 JSON takes them as strings.
    return raw


def schemas(roots: Iterator[Descriptor] | list[Descriptor]) -> dict[str, dict[str, Any]]:
    """JSON Schemas for `roots` and every message they contain, keyed by full name."""
    found: dict[str, dict[str, Any]] = {}
    pending = list(roots)
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name in found or descriptor.full_name in _WELL_KNOWN:
            continue
        properties = {}
        for described in descriptor.fields:
            schema = field_schema(described)
            if described.message_type is not None and not _is_map(described):
                pending.append(described.message_type)
            elif _is_map(described):
                value = _map_value(described)
                if value.message_type is not None:
                    pending.append(value.message_type)
            properties[described.json_name] = schema
        found[descriptor.full_name] = {"type": "object", "properties": properties}
    return found


def ref(descriptor: Descriptor) -> dict[str, Any]:
    if descriptor.full_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[descriptor.full_name])
    return {"$ref": f"#/components/schemas/{descriptor.full_name}"}


def _is_map(described: FieldDescriptor) -> bool:
    message = described.message_type
    return message is not None and message.GetOptions().map_entry


def field_schema(described: FieldDescriptor) -> dict[str, Any]:
    if _is_map(described):
        return {"type": "object", "additionalProperties": _single(_map_value(described))}
    single = _single(described)
    if described.is_repeated:
        return {"type": "array", "items": single}
    return single


def _map_value(described: FieldDescriptor) -> FieldDescriptor:
    assert described.message_type is not None
    return described.message_type.fields_by_name["value"]


def _single(described: FieldDescriptor) -> dict[str, Any]:
    if described.message_type is not None:
        return ref(described.message_type)
    if described.enum_type is not None:
        return {"type": "string", "enum": [v.name for v in described.enum_type.values]}
    return dict(_SCALARS[described.type])
