"""The build files agree with each other: lock vs pyproject, CI vs Makefile, compose vs SQL."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from boletos.platform.tracing import TraceSettings
from tests.support import access

ROOT = Path(__file__).resolve().parents[2]


def _lock() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for raw in (ROOT / "requirements.lock").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match[1])
        assert name not in pins, f"pinned twice: {name}"
        pins[name] = Version(match[2])
    return pins


def _project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r) for r in (*project["dependencies"], *project["optional-dependencies"]["dev"])
    ]


def test_lock_pins_every_direct_dependency_within_its_range() -> None:
    pins = _lock()
    for req in _project_requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}"
        )
    # psycopg[binary] needs its extra's package too, or fresh installs fall back to libpq.
    assert "psycopg-binary" in pins


def test_lock_leaves_out_the_project_and_pip() -> None:
    pins = _lock()
    assert "boletos" not in pins
    assert "pip" not in pins


def test_ci_runs_make_test_strictly() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] in ("make test", "exec make test")
    # Swallowing the test runner's exit code would let "no tests ran" pass.
    assert "|| true" not in script


def test_makefile_test_target_sets_up_and_installs_system_tools() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = dict(re.findall(r"^([a-z-]+):[^=\n]*?(?:##|$)(.*)", makefile, re.M))
    for name in ("setup", "protos", "test", "run", "bench", "lint", "clean", "system-deps"):
        assert name in targets, f"Makefile lacks target {name}"
    prerequisites = re.search(r"^test:([^#\n]*)", makefile, re.M)
    assert prerequisites
    assert {"setup", "system-deps"} <= set(prerequisites[1].split())


def test_dockerfile_installs_dependencies_before_copying_code_and_drops_root() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    lock_copy = next(
        i for i, line in enumerate(lines) if re.match(r"COPY .*requirements\.lock", line)
    )
    code_copy = next(
        i for i, line in enumerate(lines) if re.match(r"COPY (boletos|ingest_service)", line)
    )
    assert lock_copy < code_copy
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    # Kubernetes' runAsNonRoot refuses a user it cannot see is not root: a name.
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or gid.isdigit())
    exposed = next(line for line in lines if line.startswith("EXPOSE ")).split()[1:]
    assert {"50051", "50052", "50053", "9464"} <= set(exposed)
    assert any(line.startswith("LABEL org.opencontainers.image.") for line in lines)


def test_every_image_compose_pulls_is_pinned() -> None:
    for name, spec in _compose_services().items():
        image = spec.get("image", "")
        if "build" in spec:
            continue
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"


def _compose_services() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


# Stateless, over HTTP: no store, no migration, no gRPC port of its own.
GATEWAY = "gateway_service"
SERVICES = ("ingest_service", "boleto_service", "mailer_service", GATEWAY)


def _grpc_services() -> dict[str, dict]:
    """The compose services with a store and a gRPC port."""
    return {n: s for n, s in _compose_services().items() if n.endswith("_service") and n != GATEWAY}


class _RecordingEnv(dict[str, str]):
    """An empty environment that remembers every variable asked of it."""

    def __init__(self) -> None:
        super().__init__(access.minimal_env())
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


def _settings_read_by(module: str) -> tuple[set[str], Any]:
    """The variables the service's configuration reads (its own settings and the trace
    settings every service reads at start), and its settings by default."""
    env = _RecordingEnv()
    settings = importlib.import_module(f"{module}.config").Settings.from_env(env)
    TraceSettings.from_env(env)
    return env.asked, settings


def test_compose_runs_each_service_as_its_code_expects() -> None:
    services = {n: s for n, s in _compose_services().items() if n.endswith("_service")}
    assert set(services) == set(SERVICES)
    for name, spec in services.items():
        assert spec["command"] == ["python", "-m", name]
        assert (ROOT / name / "__main__.py").is_file(), f"{name} has no entry point"
        known, defaults = _settings_read_by(name)
        env = spec["environment"]
        unknown = set(env) - known
        assert not unknown, f"{name}: compose sets {unknown}, which its config never reads"
        # The container listens where the service listens by default.
        if name == GATEWAY:
            assert env["HTTP_LISTEN_ADDR"].rsplit(":", 1)[1] == str(defaults.port)
            continue
        assert (
            env["GRPC_LISTEN_ADDR"].rsplit(":", 1)[1] == defaults.grpc_listen_addr.rsplit(":")[-1]
        )
        for dependency in spec["depends_on"]:
            assert dependency in _compose_services(), f"{name} depends on unknown {dependency}"


def test_compose_database_urls_name_databases_the_init_script_creates() -> None:
    init_sql = (ROOT / "deploy" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+) OWNER (\w+);", init_sql))
    urls = [spec["environment"]["DATABASE_URL"] for spec in _grpc_services().values()]
    pairs = []
    for url in urls:
        match = re.fullmatch(r"postgresql\+psycopg://(\w+):\w+@postgres:5432/(\w+)", url)
        assert match is not None, url
        pairs.append(match.groups())
    assert {(db, user) for user, db in pairs} <= created
    assert len({db for _, db in pairs}) == len(pairs), "each service needs a database of its own"


def test_compose_publishes_only_ingest_and_the_gateway_and_names_no_container() -> None:
    services = _compose_services()
    for name, spec in services.items():
        assert "container_name" not in spec, f"{name}: a fixed name stops --scale"
    published = [n for n, s in services.items() if s.get("ports") and n.endswith("_service")]
    assert sorted(published) == ["gateway_service", "ingest_service"]


def test_env_example_lists_every_setting_the_services_read() -> None:
    listed = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for service in SERVICES:
        read, _ = _settings_read_by(service)
        assert read <= listed, f"{service} reads {sorted(read - listed)}, not in .env.example"


def test_the_configuration_doc_explains_every_setting_the_services_read() -> None:
    # Named in a row of the configuration table, not merely somewhere on the page.
    rows = "\n".join(
        line
        for line in (ROOT / "docs" / "configuration.md").read_text().splitlines()
        if line.startswith("| `")
    )
    for service in SERVICES:
        read, _ = _settings_read_by(service)
        missing = sorted(name for name in read if f"`{name}`" not in rows)
        assert not missing, f"{service} reads {missing}, not explained in docs/configuration.md"


def test_every_compose_service_is_restarted_when_it_dies() -> None:
    services = _compose_services()
    # One-off jobs run to completion once; the services that need them wait for that.
    jobs = {name for name, spec in services.items() if spec.get("restart") == "no"}
    assert jobs == {"secrets", "ingest_migrate", "boleto_migrate", "mailer_migrate"}
    # Tools run when asked (`docker compose run --rm cli ...`), never with `up`.
    tools = {name for name, spec in services.items() if "tools" in spec.get("profiles", [])}
    assert tools == {"cli"}
    for name, spec in services.items():
        if name in jobs | tools:
            continue
        assert spec.get("restart") == "unless-stopped", name


def test_every_compose_service_serves_tls_with_its_own_certificate() -> None:
    for name, spec in _compose_services().items():
        if not name.endswith("_service"):
            continue
        env = spec["environment"]
        short = name.removesuffix("_service")
        prefix = "HTTP" if name == GATEWAY else "GRPC"
        assert env[f"{prefix}_TLS_CERT"] == f"/secrets/{short}.pem"
        assert env[f"{prefix}_TLS_KEY"] == f"/secrets/{short}-key.pem"
        assert "GRPC_INSECURE" not in env and "HTTP_INSECURE" not in env
        assert spec["depends_on"]["secrets"]["condition"] == "service_completed_successfully"


def test_every_compose_service_waits_for_its_own_store_to_be_migrated() -> None:
    services = _compose_services()
    for name, spec in _grpc_services().items():
        short = name.removesuffix("_service")
        job = services[f"{short}_migrate"]
        assert job["command"] == ["python", "-m", name, "migrate"]
        assert job["environment"]["DATABASE_URL"] == spec["environment"]["DATABASE_URL"]
        assert spec["depends_on"][f"{short}_migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert spec["environment"].get("DB_AUTO_MIGRATE", "false") == "false"


def test_the_compose_cli_reaches_every_service_by_name_with_the_deployments_secrets() -> None:
    cli = _compose_services()["cli"]
    env = cli["environment"]
    for variable, service in (
        ("BOLETOS_INGEST_ADDR", "ingest_service"),
        ("BOLETOS_BOLETO_ADDR", "boleto_service"),
        ("BOLETOS_MAILER_ADDR", "mailer_service"),
    ):
        port = _compose_services()[service]["environment"]["GRPC_LISTEN_ADDR"].rsplit(":", 1)[1]
        assert env[variable].endswith(f"{service}:{port}"), variable
    assert env["BOLETOS_CA_FILE"] == "/secrets/ca.pem"
    assert "secrets:/secrets:ro" in cli["volumes"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY --from=code /src/boletos_cli ./boletos_cli" in dockerfile
    assert "exec python -m boletos_cli" in dockerfile
