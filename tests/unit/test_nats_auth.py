"""The NATS credentials a service reads, and the permissions each service's user is granted,
checked against the subjects the services actually use."""

from __future__ import annotations

from pathlib import Path

import pytest

from boletos.platform.nats_auth import NatsAuth, without_credentials
from boletos.platform.nats_permissions import GRANTS, KEY_STREAM, KEY_WRITER, authorization_block
from boletos.platform.nats_streams import STREAMS
from boletos.platform.settings import ConfigError
from boletos.provision import ensure_secrets
from boletos_cli.stack.layout import SERVICES, StackLayout
from boletos_cli.stack.nats import nats_argv

OWNERS = {"INGEST": "ingest", "BOLETO": "boleto", "MAILER": "mailer"}


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` one token, `>` the rest."""
    parts, tokens = pattern.split("."), subject.split(".")
    for i, part in enumerate(parts):
        if part == ">":
            return len(tokens) > i
        if i >= len(tokens) or part not in ("*", tokens[i]):
            return False
    return len(parts) == len(tokens)


def may(allowed: list[str], subject: str) -> bool:
    return any(matches(pattern, subject) for pattern in allowed)


def test_without_user_a_service_connects_as_before() -> None:
    auth = NatsAuth.read({})
    assert auth.user == ""
    assert auth.connect_options() == {"inbox_prefix": "_INBOX"}


def test_the_password_comes_from_its_file_and_is_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "nats.password"
    secret.write_text("s3cr3t-value\n")
    auth = NatsAuth.read({"NATS_USER": "boleto", "NATS_PASSWORD_FILE": str(secret)})
    options = auth.connect_options()
    assert (options["user"], options["password"]) == ("boleto", "s3cr3t-value")
    assert options["inbox_prefix"] == "_INBOX_boleto"
    assert "s3cr3t" not in repr(auth) and "s3cr3t" not in str(auth.masked())


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"NATS_USER": "boleto"}, "go together"),
        ({"NATS_PASSWORD_FILE": "/x"}, "go together"),
        ({"NATS_USER": "boleto", "NATS_PASSWORD_FILE": "/nonexistent/p"}, "cannot read"),
        ({"NATS_CA_FILE": "/nonexistent/ca.pem"}, "NATS_CA_FILE"),
    ],
)
def test_incomplete_or_unreadable_credentials_stop_the_service(env, says) -> None:
    with pytest.raises(ConfigError, match=says):
        NatsAuth.read(env)


def test_an_empty_password_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        NatsAuth.read({"NATS_USER": "mailer", "NATS_PASSWORD_FILE": str(empty)})


def test_urls_are_logged_without_credentials() -> None:
    assert (
        without_credentials("nats://u:p@n1:4222,tls://n2:4222,nats://x@n3:4222")
        == "nats://n1:4222,tls://n2:4222,nats://n3:4222"
    )


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.user)
def test_each_user_publishes_its_own_stream_only(grant) -> None:
    for spec in STREAMS:
        for subject in ("ingest.debts.imported", "boleto.boletos.paid", "mailer.emails.sent"):
            if matches(spec.subjects[0], subject):
                assert may(grant.publish(), subject) == (OWNERS[spec.name] == grant.user)


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.user)
def test_only_ingest_writes_the_key_bucket_and_everyone_reads_it(grant) -> None:
    writer = grant.user == KEY_WRITER == "ingest"
    assert may(grant.publish(), "$KV.BOLETOS_KEYS.abc") == writer
    assert may(grant.publish(), f"$JS.API.CONSUMER.CREATE.{KEY_STREAM}")
    assert may(grant.publish(), f"$JS.API.STREAM.CREATE.{KEY_STREAM}") == writer
    assert may(grant.publish(), f"$JS.API.STREAM.UPDATE.{KEY_STREAM}") == writer
    assert not may(grant.publish(), f"$JS.API.STREAM.DELETE.{KEY_STREAM}")
    assert not may(grant.publish(), f"$JS.API.STREAM.PURGE.{KEY_STREAM}")


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.user)
def test_each_user_makes_and_changes_only_its_own_stream(grant) -> None:
    for stream, owner in OWNERS.items():
        assert may(grant.publish(), f"$JS.API.STREAM.INFO.{stream}")
        for verb in ("CREATE", "UPDATE"):
            assert may(grant.publish(), f"$JS.API.STREAM.{verb}.{stream}") == (owner == grant.user)
        for verb in ("DELETE", "PURGE", "MSG.DELETE.x"):
            assert not may(grant.publish(), f"$JS.API.STREAM.{verb}.{stream}")


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.user)
def test_each_user_consumes_only_the_streams_it_reads(grant) -> None:
    for stream in OWNERS:
        durable = f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.x"
        assert not may(grant.publish(), durable)
        assert not may(grant.publish(), f"$JS.API.CONSUMER.CREATE.{stream}")
    for other in GRANTS:
        # Another's inbox carries what its pull consumers fetched.
        inbox = f"_INBOX_{other.user}.abc"
        assert may(grant.subscribe(), inbox) == (other is grant)
    assert not may(grant.subscribe(), "ingest.debts.imported")


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.user)
def test_each_user_settles_only_its_own_consumers(grant) -> None:
    for other in GRANTS:
        for stream, durable in other.consumers:
            mine = other is grant
            api = "$JS.API.CONSUMER"
            for subject in (
                f"{api}.DURABLE.CREATE.{stream}.{durable}",
                f"{api}.CREATE.{stream}.{durable}.{stream.lower()}.x",
                f"{api}.MSG.NEXT.{stream}.{durable}",
                f"{api}.DELETE.{stream}.{durable}",
                f"$JS.ACK.{stream}.{durable}.1.2.3.4.5",
            ):
                assert may(grant.publish(), subject) == mine, subject


def _durables_the_services_run() -> dict[str, set[tuple[str, str]]]:
    """Every durable consumer each service makes, from the services' own definitions."""
    from boleto_service.messaging.debts_consumer import consumer_spec as debts
    from ingest_service.messaging.payments_consumer import SPEC as payments
    from ingest_service.messaging.progress_consumer import CONSUMERS as progress
    from ingest_service.notifications.consumer import consumer_spec as notices
    from ingest_service.notifications.email import EmailChannel
    from ingest_service.notifications.settings import NotifySettings
    from ingest_service.notifications.webhook import WebhookChannel
    from mailer_service.messaging.bank_reports_consumer import bank_report_consumers
    from mailer_service.messaging.boletos_consumer import consumer_spec as issued
    from mailer_service.messaging.redated_consumer import consumer_spec as redated

    settings = NotifySettings()
    channels = (EmailChannel(settings), WebhookChannel("https://example.invalid/", 1.0))
    reports = bank_report_consumers(None, None, 1.0, True, lambda: None)  # type: ignore[arg-type]
    specs = {
        "ingest": [*(notices(c, settings) for c in channels)],
        "boleto": [debts(1.0, 1)],
        "mailer": [issued(1.0), redated(1.0), *(consumer.spec for _, consumer in reports)],
    }
    found = {user: {(s.stream, s.durable) for s in made} for user, made in specs.items()}
    found["ingest"] |= {*progress, (payments.stream, payments.durable)}
    return found


def test_every_consumer_a_service_runs_is_granted_and_no_other() -> None:
    assert {grant.user: set(grant.consumers) for grant in GRANTS} == _durables_the_services_run()


def test_the_rendered_block_names_every_user_and_refuses_the_anonymous() -> None:
    passwords = {grant.user: f"pw-{grant.user}" for grant in GRANTS}
    strict = authorization_block(passwords)
    assert all(f'user: "{u}"' in strict for u in passwords)
    assert "no_auth_user" not in strict and '"probe"' not in strict
    local = authorization_block(passwords, probe_password="pw-probe")
    assert 'user: "probe", password: "pw-probe"' in local
    assert "no_auth_user" not in local


def test_the_local_stack_runs_each_service_as_its_own_user(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path, 40000)
    for spec in SERVICES:
        (replica,) = layout.replicas_of(spec)
        env = layout.service_env(replica, {"NATS_USER": "someone-else"})
        assert env["NATS_USER"] == spec.name
        assert env["NATS_PASSWORD_FILE"] == str(layout.secrets.nats_password(spec.name))
    argv = nats_argv(layout, layout.nats_nodes[0])
    assert argv[argv.index("--config") + 1] == str(layout.secrets.nats_config)


def test_provisioned_passwords_and_configuration_are_private_and_kept(tmp_path: Path) -> None:
    made = ensure_secrets(tmp_path / "secrets", services=())
    first = made.nats_password("mailer").read_text()
    for path in (made.nats_password("mailer"), made.nats_password("probe"), made.nats_config):
        assert path.stat().st_mode & 0o777 == 0o600
    again = ensure_secrets(tmp_path / "secrets", services=())
    assert again.nats_password("mailer").read_text() == first
    assert first.strip() in again.nats_config.read_text()
    assert "no_auth_user" not in again.nats_config.read_text()
