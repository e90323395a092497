"""Hypothesis strategies that build any protobuf request from its descriptor, with the
values a hostile or careless client sends: numbers at and past their type's ends, text that
is empty, kilobytes long, or full of characters that act instead of showing, unknown enum
numbers, repeated fields, and for client streams short runs of messages in any order."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

# Characters that slip past a check written for ASCII: NUL and other C0/C1 controls, DEL,
# bidi overrides and isolates (U+202E turns "fdp.exe" around), zero-width and line
# separators, full-width digits (`isdigit` says yes, `int` reads them), superscripts,
# combining marks, a BOM, U+FFFF, and an astral character (two UTF-16 units).
ODD_CHARACTERS = (
    "\x00\x01\x07\x08\x09\x0a\x0b\x0c\x0d\x1b\x7f\x80\x85\x9f"
    "\u200b\u200d\u200e\u200f\u2028\u2029\u202a\u202e\u2066\u2069\u061c"
    "\uff10\uff11\uff19\u00b2\u0660\u0301\u0308\u20dd\ufeff\ufffd\uffff"
    "\U0001f600\U000e0001"
)
ODD_TEXTS = (
    "",
    " ",
    "\x00",
    "\u202e",
    "１２３",  # full-width digits
    "\\ud800",  # a lone surrogate, escaped: the wire carries only valid UTF-8
    "\\u0000",
    "e\u0301\u0301\u0301",
    "%00",
    "../../etc/passwd",
    "' OR 1=1 --",
    "-1",
    "0",
    "9" * 40,
    "null",
    "NaN",
    "{}",
    "00000000-0000-0000-0000-000000000000",
    "{12345678-1234-5678-1234-567812345678}",  # uuid.UUID reads braces and no dashes
    "urn:uuid:12345678-1234-5678-1234-567812345678",
)
KILOBYTES = 4096


@dataclass(frozen=True)
class Known:
    """Values that name something real (an upload's or a debt's id) and the first bytes of
    files the services read, mixed in so that some calls get past the first check."""

    ids: tuple[str, ...] = ()
    file_starts: tuple[bytes, ...] = ()


INT_LIMITS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def hostile_text(known: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Text a careless or hostile client sends; `known` are values that name something real
    (an upload's id), so that some calls get past the lookup."""
    odd = st.characters(codec="utf-8") | st.sampled_from(ODD_CHARACTERS)
    choices = [
        st.sampled_from(ODD_TEXTS),
        st.text(odd, max_size=40),
        st.uuids().map(str),
        st.builds(
            lambda c, n: c * n, st.sampled_from("x\u202e\x00é１"), st.integers(256, KILOBYTES)
        ),
        st.binary(max_size=48).map(lambda b: base64.urlsafe_b64encode(b).decode()),
        st.integers().map(str),
    ]
    if known:
        # Mostly a real one: the checks past the id's shape are reached only with one.
        real = st.sampled_from(list(known))
        return st.integers(0, 3).flatmap(lambda n: real if n else st.one_of(choices))
    return st.one_of(choices)


def _half(these: st.SearchStrategy[Any], others: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`these` about half the time (`|` would flatten them in with the other branches)."""
    return st.booleans().flatmap(lambda pick: these if pick else others)


def hostile_bytes(starts: Sequence[bytes] = ()) -> st.SearchStrategy[bytes]:
    """Bytes, some beginning as a file the service reads would (`starts`), so that the
    reader gets past its first check."""
    choices = [
        st.binary(max_size=64),
        st.sampled_from([b"", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\r\n" * 8]),
        st.builds(
            bytes.__mul__, st.sampled_from([b"a,", b"\x00", b"\n"]), st.integers(1, KILOBYTES)
        ),
        st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    ]
    if starts:
        tails = st.just(b"") | st.binary(max_size=300)
        return _half(
            st.builds(bytes.__add__, st.sampled_from(list(starts)), tails), st.one_of(choices)
        )
    return st.one_of(choices)


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (low, high, 0, 1, -1, low + 1, high - 1, 2**31, 2**53) if low <= v <= high]
    return st.sampled_from(edges) | st.integers(low, high)


def _enum_numbers(field: FieldDescriptor) -> st.SearchStrategy[int]:
    assert field.enum_type is not None
    declared = [v.number for v in field.enum_type.values]
    unknown = max(declared) + 1
    return _half(
        st.sampled_from(declared),
        st.sampled_from([unknown, -1]) | st.integers(*INT_LIMITS[FieldDescriptor.TYPE_INT32]),
    )


def scalar(field: FieldDescriptor, known: Known) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return hostile_text(known.ids if field.name.endswith(("_id", "_ids")) else ())
    if kind == FieldDescriptor.TYPE_BYTES:
        return hostile_bytes(known.file_starts)
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_ENUM:
        return _enum_numbers(field)
    if kind in INT_LIMITS:
        return _integers(*INT_LIMITS[kind])
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    raise NotImplementedError(f"no strategy for {field.full_name} (type {kind})")


def messages(
    descriptor: Descriptor, known: Known = Known(), depth: int = 0
) -> st.SearchStrategy[Message]:
    """Any message of `descriptor`'s type: each field absent or hostile, repeated fields a few
    times (the same value again among them), every member of a oneof possibly set (the last
    one set wins, as on the wire)."""
    values = {f.name: _field(f, known, depth) for f in descriptor.fields}
    return st.fixed_dictionaries({}, optional=values).map(lambda chosen: _build(descriptor, chosen))


def _field(field: FieldDescriptor, known: Known, depth: int) -> st.SearchStrategy[Any]:
    nested = field.message_type
    if nested is not None:
        # Two levels down is as deep as any request goes; below, an empty message.
        one: st.SearchStrategy[Any] = (
            messages(nested, known, depth + 1) if depth < 2 else st.just(GetMessageClass(nested)())
        )
    else:
        one = scalar(field, known)
    if not field.is_repeated:
        return one
    lists = st.lists(one, max_size=5) | one.map(lambda v: [v, v, v])
    if field.type == FieldDescriptor.TYPE_STRING:
        # Past the 500 ids a batch call takes: its limit must answer, not the store.
        lists |= st.just([str(uuid.UUID(int=i)) for i in range(501)])
    return lists


def _build(descriptor: Descriptor, chosen: dict[str, Any]) -> Message:
    message = GetMessageClass(descriptor)()
    for name, value in chosen.items():
        field = descriptor.fields_by_name[name]
        target = getattr(message, name) if field.type == FieldDescriptor.TYPE_MESSAGE else None
        if field.is_repeated:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                for item in value:
                    getattr(message, name).add().CopyFrom(item)
            else:
                getattr(message, name).extend(value)
        elif target is not None:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def streams(descriptor: Descriptor, known: Known = Known()) -> st.SearchStrategy[list[Message]]:
    """A short client stream: none, one or a few messages, in any order, the first possibly
    not a header and a header possibly again later."""
    return st.lists(messages(descriptor, known), max_size=5)


def ordered_streams(
    descriptor: Descriptor, known: Known = Known()
) -> st.SearchStrategy[list[Message]]:
    """A client stream in the shape the service expects (the oneof's first member, then
    some of the second, then maybe the rest: header, chunks, end) with hostile values."""
    members = descriptor.oneofs[0].fields
    kinds = [_single(descriptor, f, known) for f in members]
    lead, body, tail = kinds[0], kinds[1], kinds[2:]
    trailer = st.lists(st.one_of(tail), max_size=1) if tail else st.just([])
    return st.builds(
        lambda first, middle, last: [first, *middle, *last],
        lead,
        st.lists(body, max_size=4),
        trailer,
    )


def _single(
    descriptor: Descriptor, field: FieldDescriptor, known: Known
) -> st.SearchStrategy[Message]:
    return _field(field, known, 1).map(lambda value: _build(descriptor, {field.name: value}))
