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
    assert may(grant.publish(), "$KV.BOLETOS_KEYS.abc") == (grant.user == KEY_WRITER == "ingest")
    assert may(grant.publish(), f"$JS.API.CONSUMER.CREATE.{KEY_STREAM}")
    assert not may(grant.publish(), f"$JS.API.STREAM.DELETE.{KEY_STREAM}")
    assert not may(grant.publish(), f"$JS.API.STREAM.PURGE.{KEY_STREAM}")


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.user)
def test_each_user_consumes_only_the_streams_it_reads(grant) -> None:
    for stream in OWNERS:
        durable = f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.x"
        assert may(grant.publish(), durable) == (stream in grant.reads)
    for other in GRANTS:
        # Another's inbox carries what its pull consumers fetched.
        inbox = f"_INBOX_{other.user}.abc"
        assert may(grant.subscribe(), inbox) == (other is grant)
    assert not may(grant.subscribe(), "ingest.debts.imported")


def test_the_rendered_block_names_every_user_and_the_probe_only_when_asked() -> None:
    passwords = {grant.user: f"pw-{grant.user}" for grant in GRANTS}
    strict = authorization_block(passwords)
    assert all(f'user: "{u}"' in strict for u in passwords)
    assert "no_auth_user" not in strict and '"probe"' not in strict
    local = authorization_block(passwords, probe_password="pw-probe")
    assert 'no_auth_user: "probe"' in local


def test_the_local_stack_runs_each_service_as_its_own_user(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path, 40000)
    for spec in SERVICES:
        (replica,) = layout.replicas_of(spec)
        env = layout.service_env(replica, {"NATS_USER": "someone-else"})
        assert env["NATS_USER"] == spec.name
        assert env["NATS_PASSWORD_FILE"] == str(layout.secrets.nats_password(spec.name))
    argv = nats_argv(layout, layout.nats_nodes[0])
    assert argv[argv.index("--config") + 1] == str(layout.secrets.nats_config_local)


def test_provisioned_passwords_and_configuration_are_private_and_kept(tmp_path: Path) -> None:
    made = ensure_secrets(tmp_path / "secrets", services=())
    first = made.nats_password("mailer").read_text()
    for path in (made.nats_password("mailer"), made.nats_config, made.nats_config_local):
        assert path.stat().st_mode & 0o777 == 0o600
    again = ensure_secrets(tmp_path / "secrets", services=())
    assert again.nats_password("mailer").read_text() == first
    assert first.strip() in again.nats_config.read_text()
    assert "no_auth_user" not in again.nats_config.read_text()
