"""What each service's NATS user may do, written once as data and rendered into the
nats-server configuration's `authorization` block by whoever runs the server: the local
stack, the tests, the deployment's files.

Each service may publish only its own subjects, consume only the streams it reads and, but
for ingest (which serves KeyService), only read the key bucket; replies reach each service on
an inbox only it may subscribe to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from boletos.platform.access.directory import BUCKET
from boletos.platform.nats_auth import INBOX_PREFIX
from boletos.platform.nats_streams import STREAMS

KEY_STREAM = f"KV_{BUCKET}"
# The ingest service's notifications hear of messages a consumer gave up on.
MAX_DELIVERIES_ADVISORIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"


@dataclass(frozen=True)
class Grant:
    """What one service's user may do."""

    user: str
    # The stream it produces: it alone publishes its subjects.
    stream: str
    # The streams it consumes (the key bucket, which every service reads, aside).
    reads: tuple[str, ...]
    writes_keys: bool = False
    # Core NATS subjects it listens to besides its own inbox.
    listens: tuple[str, ...] = ()

    def publish(self) -> list[str]:
        own = [subject for spec in STREAMS if spec.name == self.stream for subject in spec.subjects]
        # Every service declares every stream and the bucket at start, whichever starts
        # first, so each may create them, bring their limits in line and ask about them.
        declared = [spec.name for spec in STREAMS] + [KEY_STREAM]
        allowed = [*own, "$JS.API.INFO"]
        for stream in declared:
            allowed += [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE", "INFO")]
        for stream in (*self.reads, KEY_STREAM):
            allowed += _consuming(stream)
        allowed += [f"$JS.API.DIRECT.GET.{KEY_STREAM}.>", f"$JS.API.STREAM.MSG.GET.{KEY_STREAM}"]
        if self.writes_keys:
            allowed.append(f"$KV.{BUCKET}.>")
        return allowed

    def subscribe(self) -> list[str]:
        return [f"{INBOX_PREFIX}{self.user}.>", *self.listens]


def _consuming(stream: str) -> list[str]:
    """What a durable or ordered consumer on `stream` asks of JetStream: create and look up
    the consumer, fetch, acknowledge, and answer flow control."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.CREATE.{stream}",
        f"{api}.CREATE.{stream}.>",
        f"{api}.DURABLE.CREATE.{stream}.>",
        f"{api}.INFO.{stream}.>",
        f"{api}.MSG.NEXT.{stream}.>",
        f"{api}.DELETE.{stream}.>",
        f"$JS.ACK.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


GRANTS = (
    Grant(
        "ingest",
        "INGEST",
        reads=("INGEST", "BOLETO", "MAILER"),
        writes_keys=True,
        listens=(MAX_DELIVERIES_ADVISORIES,),
    ),
    Grant("boleto", "BOLETO", reads=("INGEST",)),
    Grant("mailer", "MAILER", reads=("BOLETO",)),
)
USERS = tuple(grant.user for grant in GRANTS)
# The one user that may write the key bucket (it serves KeyService and imports key files).
KEY_WRITER = next(grant.user for grant in GRANTS if grant.writes_keys)

# The local stack's health check and its tests ask JetStream, without credentials, whether
# it is up and how the streams stand; that user may ask nothing else.
PROBE_USER = "probe"
PROBE_PUBLISH = ("$JS.API.INFO", "$JS.API.STREAM.INFO.*")
PROBE_SUBSCRIBE = ("_INBOX.>",)


def authorization_block(passwords: Mapping[str, str], *, probe_password: str = "") -> str:
    """The nats-server configuration's `authorization` block: one user per service, named
    after it, with the password given for it. With `probe_password`, a connection without
    credentials is the probe user; without it, such a connection is refused."""
    users = [
        _user(grant.user, passwords[grant.user], grant.publish(), grant.subscribe())
        for grant in GRANTS
    ]
    if probe_password:
        users.append(_user(PROBE_USER, probe_password, PROBE_PUBLISH, PROBE_SUBSCRIBE))
    lines = ["authorization {", "  users = [", *(f"    {user}" for user in users), "  ]", "}"]
    if probe_password:
        lines.append(f"no_auth_user: {_quoted(PROBE_USER)}")
    return "\n".join(lines) + "\n"


def _user(name: str, password: str, publish: Iterable[str], subscribe: Iterable[str]) -> str:
    permissions = (
        f"permissions: {{ publish: {{ allow: {_list(publish)} }}, "
        f"subscribe: {{ allow: {_list(subscribe)} }} }}"
    )
    return f"{{ user: {_quoted(name)}, password: {_quoted(password)}, {permissions} }}"


def _list(subjects: Iterable[str]) -> str:
    return "[" + ", ".join(_quoted(s) for s in subjects) + "]"


def _quoted(text: str) -> str:
    # A JSON string is a nats-server configuration string, "$" and all.
    return json.dumps(text)
