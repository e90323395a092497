"""A local stack's NATS cluster and PostgreSQL databases as laid out, before anything runs;
and the NATS settings every service reads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from nats.js.api import DiscardPolicy, RetentionPolicy

from boletos.platform import nats_streams
from boletos.platform.settings import ConfigError
from boletos_cli.stack import postgres
from boletos_cli.stack.layout import SERVICES, StackError, StackLayout
from boletos_cli.stack.nats import nats_argv, routine
from ingest_service.config import Settings as IngestSettings
from tests.support import access

INGEST, BOLETO, MAILER = SERVICES
ADMIN = "postgresql://postgres:pw@db.internal:5432/postgres"


def test_a_cluster_takes_one_port_row_per_node_and_a_store_each() -> None:
    layout = StackLayout(Path("data"), 40000, nats_cluster=3)
    nodes = layout.nats_nodes
    assert [n.name for n in nodes] == ["nats-1", "nats-2", "nats-3"]
    assert [n.client_port for n in nodes] == [40003, 40013, 40023]
    assert [n.route_port for n in nodes] == [40009, 40019, 40029]
    assert [n.store for n in nodes] == [Path("data") / f"nats-{i}" for i in (1, 2, 3)]
    assert layout.nats_url == (
        "nats://127.0.0.1:40003,nats://127.0.0.1:40013,nats://127.0.0.1:40023"
    )
    ports = list(layout.reserved_ports().values())
    assert len(ports) == len(set(ports))
    assert {40003, 40009, 40013, 40019, 40023, 40029} <= set(ports)
    # Clustering NATS moves no service.
    assert layout.reserved_ports()["mailer"] == 40002 and layout.smtp_catcher_port == 40004


def test_every_service_is_given_every_node_and_three_replicas_per_stream() -> None:
    layout = StackLayout(Path("data"), 40000, {"boleto": 2}, nats_cluster=3)
    for spec in SERVICES:
        for replica in layout.replicas_of(spec):
            env = layout.service_env(replica, {"NATS_STREAM_REPLICAS": "5"})
            assert env["NATS_URL"] == layout.nats_url
            assert env["NATS_STREAM_REPLICAS"] == "3"
    assert StackLayout(Path("data"), 40000, nats_cluster=5).stream_replicas == 3


def test_one_node_keeps_the_single_server_layout() -> None:
    layout = StackLayout(Path("data"), 40000)
    (node,) = layout.nats_nodes
    assert (node.name, node.client_port, node.store) == ("nats", 40003, Path("data") / "nats")
    assert layout.nats_url == "nats://127.0.0.1:40003"
    (ingest,) = layout.replicas_of(INGEST)
    # Whatever the environment says: more than one replica fails on a single server.
    assert layout.service_env(ingest, {"NATS_STREAM_REPLICAS": "3"})["NATS_STREAM_REPLICAS"] == "1"
    assert not any("routes" in name for name in layout.reserved_ports())
    argv = nats_argv(layout, node)
    assert "--cluster" not in argv and "--routes" not in argv


def test_a_node_routes_to_the_others_under_a_name_it_keeps() -> None:
    layout = StackLayout(Path("data"), 40000, nats_cluster=3)
    second = layout.nats_nodes[1]
    argv = nats_argv(layout, second)

    def value(flag: str) -> str:
        return argv[argv.index(flag) + 1]

    assert value("--port") == "40013"
    assert value("--store_dir") == str(Path("data") / "nats-2")
    assert value("--server_name") == "nats-2"
    assert value("--cluster_name") == "boletos-40000"
    assert value("--cluster") == "nats://127.0.0.1:40019"
    assert value("--routes") == "nats://127.0.0.1:40009,nats://127.0.0.1:40029"
    assert "--jetstream" in argv


@pytest.mark.parametrize("nodes", [0, 2, 4, 7])
def test_only_clusters_that_survive_a_loss_are_laid_out(nodes: int) -> None:
    with pytest.raises(StackError, match=f"nats-cluster: {nodes} nodes; run 1 or 3 or 5"):
        StackLayout(Path("data"), 40000, nats_cluster=nodes)


def test_the_port_range_check_counts_the_cluster() -> None:
    with pytest.raises(StackError, match=r"the stack uses ports 65500\.\.65549"):
        StackLayout(Path("data"), 65500, nats_cluster=5)


def test_route_dials_and_the_banner_are_kept_out_of_sight() -> None:
    assert routine("[1] 2026/01/01 [INF] Starting nats-server")
    assert routine("[1] [ERR] Error trying to connect to route (attempt 3): dial tcp ...")
    assert not routine("[1] [WRN] JetStream has not established contact with a meta leader")
    assert not routine("[1] [ERR] Error storing message: no space left on device")


def test_postgres_gives_each_service_its_own_database_and_role(tmp_path: Path) -> None:
    layout = StackLayout(tmp_path, 40000, postgres=ADMIN)
    assert layout.postgres_databases() == {
        "ingest": "boletos_40000_ingest",
        "boleto": "boletos_40000_boleto",
        "mailer": "boletos_40000_mailer",
    }
    url = layout.database_url(BOLETO)
    password = (layout.secrets.directory / "postgres-boleto.password").read_text().strip()
    assert url == (
        f"postgresql+psycopg://boletos_40000_boleto:{password}"
        "@db.internal:5432/boletos_40000_boleto"
    )
    # Shown to people without the password, and never the administrator's.
    label = layout.database_label(BOLETO)
    assert (
        label == "postgresql+psycopg://boletos_40000_boleto@db.internal:5432/boletos_40000_boleto"
    )
    assert layout.database_url(INGEST) != url


def test_a_database_named_for_a_service_wins_over_postgres(tmp_path: Path) -> None:
    own = "postgresql+psycopg://mailer:s3cret@elsewhere:5432/mailer"
    layout = StackLayout(tmp_path, 40000, databases={"mailer": own}, postgres=ADMIN)
    assert "mailer" not in layout.postgres_databases()
    assert layout.database_url(MAILER) == own


def test_a_role_password_is_made_once_kept_private_and_checked(tmp_path: Path) -> None:
    first = postgres.password(tmp_path, "ingest")
    assert postgres.password(tmp_path, "ingest") == first
    assert postgres.password(tmp_path, "boleto") != first
    path = tmp_path / "postgres-ingest.password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("x'; DROP ROLE postgres; --\n")
    with pytest.raises(StackError, match="does not hold a password this stack made"):
        postgres.password(tmp_path, "ingest")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db", "needs a PostgreSQL URL, not sqlite://"),
        ("not a url", "needs a URL such as"),
    ],
)
def test_postgres_wants_a_postgresql_url(url: str, message: str) -> None:
    with pytest.raises(StackError, match=message):
        StackLayout(Path("data"), 40000, postgres=url)


def test_the_administrative_url_gets_the_services_driver() -> None:
    assert postgres.admin_url("postgresql://postgres@h/postgres").drivername == postgres.DRIVER
    assert postgres.admin_url("postgres://postgres@h/postgres").drivername == postgres.DRIVER


def test_nats_url_may_list_the_nodes_of_a_cluster() -> None:
    assert nats_streams.servers("nats://a:4222") == ["nats://a:4222"]
    assert nats_streams.servers(" nats://a:4222, nats://b:4222 ,,nats://c:4222") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]


def test_streams_refuse_new_events_when_full_rather_than_drop_unread_ones() -> None:
    for spec in nats_streams.STREAMS:
        config = nats_streams.stream_config(spec, replicas=3, max_debts=1000)
        assert config.num_replicas == 3
        assert config.discard == DiscardPolicy.NEW
        assert config.retention == RetentionPolicy.LIMITS
        assert config.max_bytes == spec.bytes_per_debt * 1000
        assert config.max_age == nats_streams.MAX_AGE_SECONDS
    default = nats_streams.stream_config(nats_streams.STREAMS[0])
    assert default.num_replicas == 1
    assert default.max_bytes == 128 * nats_streams.DEFAULT_MAX_DEBTS


def test_stream_settings_are_read_once_with_their_defaults() -> None:
    settings = IngestSettings.from_env(access.minimal_env())
    assert settings.nats_stream_replicas == 1
    assert settings.nats_stream_max_debts == nats_streams.DEFAULT_MAX_DEBTS
    clustered = IngestSettings.from_env(
        {**access.minimal_env(), "NATS_STREAM_REPLICAS": "3", "NATS_STREAM_MAX_DEBTS": "1000"}
    )
    assert (clustered.nats_stream_replicas, clustered.nats_stream_max_debts) == (3, 1000)
    for bad in ("0", "6", "three"):
        with pytest.raises(ConfigError, match="NATS_STREAM_REPLICAS"):
            IngestSettings.from_env({**access.minimal_env(), "NATS_STREAM_REPLICAS": bad})
