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
from boletos.platform.nats_streams import (
    STREAMS,
    SUBJECT_BOLETOS_FAILED,
    SUBJECT_BOLETOS_ISSUED,
    SUBJECT_BOLETOS_PAID,
    SUBJECT_EMAILS_FAILED,
    SUBJECT_EMAILS_SENT,
)

KEY_STREAM = f"KV_{BUCKET}"
# The ingest service's notifications hear of messages a consumer gave up on.
MAX_DELIVERIES_ADVISORIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>"


@dataclass(frozen=True)
class Grant:
    """What one service's user may do."""

    user: str
    # The stream it produces: it alone publishes its subjects and declares the stream.
    stream: str
    # The durable consumers it runs, as (stream, durable name): it may create, read, fetch
    # from, acknowledge on and delete those and no other, so no service can take or settle
    # another's messages. The key bucket's own readers are aside.
    consumers: tuple[tuple[str, str], ...]
    writes_keys: bool = False
    # Core NATS subjects it listens to besides its own inbox.
    listens: tuple[str, ...] = ()

    @property
    def reads(self) -> tuple[str, ...]:
        """The streams it consumes."""
        return tuple(dict.fromkeys(stream for stream, _ in self.consumers))

    @property
    def declares(self) -> tuple[str, ...]:
        """The streams it creates and keeps in line with its settings."""
        return (self.stream, KEY_STREAM) if self.writes_keys else (self.stream,)

    def publish(self) -> list[str]:
        own = [subject for spec in STREAMS if spec.name == self.stream for subject in spec.subjects]
        allowed = [*own, "$JS.API.INFO"]
        # Any stream may be looked up (a consumer waits for its stream to exist); only the
        # owner's may be made or changed.
        allowed += [f"$JS.API.STREAM.INFO.{spec.name}" for spec in STREAMS]
        allowed.append(f"$JS.API.STREAM.INFO.{KEY_STREAM}")
        for stream in self.declares:
            allowed += [f"$JS.API.STREAM.{verb}.{stream}" for verb in ("CREATE", "UPDATE")]
        for stream, durable in self.consumers:
            allowed += _consuming(stream, durable)
        allowed += _reading_keys()
        if self.writes_keys:
            allowed.append(f"$KV.{BUCKET}.>")
        return allowed

    def subscribe(self) -> list[str]:
        return [f"{INBOX_PREFIX}{self.user}.>", *self.listens]


def _consuming(stream: str, durable: str) -> list[str]:
    """What one durable pull consumer asks of JetStream: create (with or without a filter)
    and look it up, fetch, acknowledge, and delete it."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.CREATE.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}.>",
        f"{api}.DURABLE.CREATE.{stream}.{durable}",
        f"{api}.INFO.{stream}.{durable}",
        f"{api}.MSG.NEXT.{stream}.{durable}",
        f"{api}.DELETE.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def _reading_keys() -> list[str]:
    """Reading the key bucket: its entries one by one and the ordered consumer that lists
    their names (ephemeral, named by the client, acknowledging nothing)."""
    api = "$JS.API"
    return [
        f"{api}.CONSUMER.CREATE.{KEY_STREAM}",
        f"{api}.CONSUMER.CREATE.{KEY_STREAM}.>",
        f"{api}.CONSUMER.INFO.{KEY_STREAM}.>",
        f"{api}.CONSUMER.DELETE.{KEY_STREAM}.>",
        f"$JS.FC.{KEY_STREAM}.>",
        f"{api}.DIRECT.GET.{KEY_STREAM}.>",
        f"{api}.STREAM.MSG.GET.{KEY_STREAM}",
    ]


def _progress(stream: str, subject: str) -> tuple[str, str]:
    return stream, f"ingest-progress-{subject.replace('.', '-')}"


GRANTS = (
    Grant(
        "ingest",
        "INGEST",
        consumers=(
            ("INGEST", "ingest-notify-webhook"),
            ("INGEST", "ingest-notify-email"),
            _progress("BOLETO", SUBJECT_BOLETOS_ISSUED),
            _progress("BOLETO", SUBJECT_BOLETOS_FAILED),
            _progress("BOLETO", SUBJECT_BOLETOS_PAID),
            _progress("MAILER", SUBJECT_EMAILS_SENT),
            _progress("MAILER", SUBJECT_EMAILS_FAILED),
        ),
        writes_keys=True,
        listens=(MAX_DELIVERIES_ADVISORIES,),
    ),
    Grant("boleto", "BOLETO", consumers=(("INGEST", "boleto-service"),)),
    Grant(
        "mailer",
        "MAILER",
        consumers=(
            ("BOLETO", "mailer-service"),
            ("BOLETO", "mailer-boletos-redated"),
            ("BOLETO", "mailer-boletos-paid"),
            ("BOLETO", "mailer-boletos-written-off"),
            ("BOLETO", "mailer-boletos-rejected"),
        ),
    ),
)
USERS = tuple(grant.user for grant in GRANTS)
# The one user that may write the key bucket (it serves KeyService and imports key files).
KEY_WRITER = next(grant.user for grant in GRANTS if grant.writes_keys)


def grant_of(user: str) -> Grant | None:
    """The grant of a service's user; None for a connection without a user, which a server
    without authorization lets do anything."""
    return next((grant for grant in GRANTS if grant.user == user), None)


# The local stack's health check and its tests ask JetStream whether it is up and how the
# streams stand, as a user of its own that may ask nothing else.
PROBE_USER = "probe"
PROBE_PUBLISH = ("$JS.API.INFO", "$JS.API.STREAM.INFO.*")
PROBE_SUBSCRIBE = ("_INBOX.>",)


def authorization_block(passwords: Mapping[str, str], *, probe_password: str = "") -> str:
    """The nats-server configuration's `authorization` block: one user per service, named
    after it, with the password given for it, and with `probe_password` the probe user. A
    connection without credentials is refused."""
    users = [
        _user(grant.user, passwords[grant.user], grant.publish(), grant.subscribe())
        for grant in GRANTS
    ]
    if probe_password:
        users.append(_user(PROBE_USER, probe_password, PROBE_PUBLISH, PROBE_SUBSCRIBE))
    lines = ["authorization {", "  users = [", *(f"    {user}" for user in users), "  ]", "}"]
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
