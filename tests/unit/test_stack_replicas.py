"""How ``--replicas`` is read and where each replica of a local stack listens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from boletos_cli.stack.layout import SERVICES, StackError, StackLayout
from boletos_cli.stack.replicas import describe, parse_replicas

INGEST, BOLETO, MAILER = SERVICES


def test_counts_are_read_by_service_name() -> None:
    assert parse_replicas("boleto=2,mailer=3") == {"boleto": 2, "mailer": 3}
    assert parse_replicas(" boleto = 2 , ") == {"boleto": 2}
    assert parse_replicas("") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pdf=2", "unknown service 'pdf'; the services are ingest, boleto, mailer"),
        ("boleto=0", "'boleto=0': a service runs 1 to 8 processes"),
        ("boleto=-1", "'boleto=-1': a service runs 1 to 8 processes"),
        ("boleto=9", "'boleto=9': a service runs 1 to 8 processes"),
        ("boleto", "'boleto' is not SERVICE=N"),
        ("=2", "'=2' is not SERVICE=N"),
        ("boleto=two", "'boleto=two': 'two' is not a whole number"),
        ("boleto=2,boleto=3", "boleto is given more than once"),
    ],
)
def test_bad_counts_are_refused_with_the_entry_named(text: str, message: str) -> None:
    with pytest.raises(StackError, match="^" + message.replace("(", r"\(")):
        parse_replicas(text)


def test_describe_names_only_the_scaled_services() -> None:
    assert describe({"boleto": 2, "mailer": 2, "ingest": 1}) == "boleto=2,mailer=2"
    assert describe({}) == "one each"


def test_replicas_keep_the_first_ports_and_step_by_ten() -> None:
    layout = StackLayout(Path("data"), 40000, {"boleto": 3})
    assert [r.name for r in layout.replicas_of(INGEST)] == ["ingest"]
    boletos = layout.replicas_of(BOLETO)
    assert [r.name for r in boletos] == ["boleto-1", "boleto-2", "boleto-3"]
    assert [layout.grpc_port(r) for r in boletos] == [40001, 40011, 40021]
    assert [layout.metrics_port(r) for r in boletos] == [40006, 40016, 40026]
    assert layout.service_address(BOLETO) == "127.0.0.1:40001"
    assert layout.service_target(BOLETO) == "ipv4:127.0.0.1:40001,127.0.0.1:40011,127.0.0.1:40021"
    assert layout.service_target(MAILER) == "127.0.0.1:40002"
    # Scaling boleto moves no other component.
    assert layout.reserved_ports()["mailer"] == 40002
    assert layout.nats_port == 40003 and layout.smtp_catcher_port == 40004


def test_every_process_gets_its_own_addresses_and_the_mailer_every_boleto() -> None:
    layout = StackLayout(Path("data"), 40000, {"boleto": 2, "mailer": 2})
    mailer_2 = layout.replicas_of(MAILER)[1]
    env = layout.service_env(mailer_2, {"SMTP_CONNECTIONS": "24"})
    assert env["GRPC_LISTEN_ADDR"] == "127.0.0.1:40012"
    assert env["METRICS_ADDR"] == "127.0.0.1:40017"
    assert env["BOLETO_ADDR"] == "ipv4:127.0.0.1:40001,127.0.0.1:40011"
    assert env["DATABASE_URL"].endswith("/data/mailer.db")
    assert env["SMTP_CONNECTIONS"] == "24"
    ports = list(layout.reserved_ports().values())
    # Four processes' gRPC and metrics ports, ingest's and boleto-1's, NATS, SMTP, the mail
    # page, the gateway's HTTPS and metrics.
    assert len(ports) == len(set(ports)) == 15
    assert layout.mail_viewer_port == 40008


def test_the_layout_refuses_ports_past_the_last() -> None:
    with pytest.raises(StackError, match=r"the stack uses ports 65500\.\.65537"):
        StackLayout(Path("data"), 65500, {"mailer": 4})
    with pytest.raises(StackError, match="unknown service 'pdf'"):
        StackLayout(Path("data"), 40000, {"pdf": 2})


def test_the_cli_rejects_a_bad_replicas_argument_before_starting_anything() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "boletos_cli", "stack", "--replicas", "boleto=0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "argument --replicas: 'boleto=0': a service runs 1 to 8 processes" in result.stderr


def test_a_service_given_a_database_uses_it_and_shows_it_without_its_password() -> None:
    url = "postgresql+psycopg://mailer:s3cret@db.internal:5432/mailer"
    layout = StackLayout(Path("data"), 40000, databases={"mailer": url})
    (mailer,) = layout.replicas_of(MAILER)
    assert layout.service_env(mailer, {})["DATABASE_URL"] == url
    assert layout.database_label(MAILER) == "postgresql+psycopg://mailer@db.internal:5432/mailer"
    # The others keep their SQLite files.
    assert layout.database_url(BOLETO).endswith("/data/boleto.db")
    assert layout.database_label(BOLETO) == str(Path("data") / "boleto.db")
    with pytest.raises(StackError, match="database: unknown service 'pdf'"):
        StackLayout(Path("data"), 40000, databases={"pdf": url})
