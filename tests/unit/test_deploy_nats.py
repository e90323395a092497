"""The deployments run NATS with the users and permissions of nats_permissions.py: compose
includes the configuration the `secrets` job renders with its passwords, the NATS chart's
values carry the same block reading each password from the environment, and every service
connects as its own user. No NATS password is written in the repository.
(tests/integration/test_deploy_manifests.py checks the rendered Kubernetes overlays.)"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import nats
import pytest
import yaml
from nats.errors import Error as NatsError

from boletos.platform.nats_permissions import USERS
from boletos.provision import Secrets, nats_authorization_from_env, nats_password_variable
from boletos_testing.processes import NatsServer, nats_server_binary

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
NATS_VALUES = DEPLOY / "nats" / "values.yaml"
# Where compose's `secrets` volume is mounted in the services and in the NATS server.
SECRETS_DIR = "/secrets"
NATS_CONFIG = "/etc/nats/jetstream.conf"


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return compose


def _nats_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(NATS_VALUES.read_text())
    return values


def _mounts(spec: dict[str, Any]) -> dict[str, str]:
    """Target -> source of a compose service's short-syntax volumes."""
    mounts = {}
    for volume in spec.get("volumes") or []:
        source, target, *_ = volume.split(":")
        mounts[target] = source
    return mounts


# --- compose ---------------------------------------------------------------------------------


def test_each_compose_service_connects_to_nats_as_its_own_user() -> None:
    # The gateway speaks to the services over gRPC only, never to NATS.
    services = {
        n: s
        for n, s in _compose()["services"].items()
        if n.endswith("_service") and n != "gateway_service"
    }
    assert "NATS_URL" not in _compose()["services"]["gateway_service"]["environment"]
    made = Secrets(Path(SECRETS_DIR))
    users = []
    for name, spec in services.items():
        env = spec["environment"]
        user = env.get("NATS_USER")
        assert user == name.removesuffix("_service"), f"{name}: NATS_USER {user!r}"
        # The password file the `secrets` job makes for that user, in the volume it mounts.
        assert env.get("NATS_PASSWORD_FILE") == str(made.nats_password(user)), name
        assert _mounts(spec).get(SECRETS_DIR) == "secrets", name
        users.append(user)
    assert sorted(users) == sorted(USERS), "compose and nats_permissions name other users"


def test_compose_nats_server_includes_the_users_the_secrets_job_renders() -> None:
    compose = _compose()
    nats_spec = compose["services"]["nats"]
    job = compose["services"]["secrets"]
    assert job["command"][:3] == ["python", "-m", "boletos.provision"]
    assert job["command"][job["command"].index("--dir") + 1] == SECRETS_DIR
    assert nats_spec["depends_on"]["secrets"]["condition"] == "service_completed_successfully"
    [config] = [c for c in nats_spec["configs"] if c["target"] == NATS_CONFIG]
    assert ["-c", NATS_CONFIG] == nats_spec["command"][:2]
    content = compose["configs"][config["source"]]["content"]
    includes = re.findall(r'^include "([^"]+)"$', content, re.M)
    assert len(includes) == 1, content
    # nats-server resolves an include beside the file that names it.
    included = PurePosixPath(NATS_CONFIG).parent / includes[0]
    mounted = {PurePosixPath(t): s for t, s in _mounts(nats_spec).items()}
    assert mounted.get(included.parent) == "secrets", f"{included} is not in the secrets volume"
    # The deployment's configuration (no anonymous user), not the local stack's.
    assert included.name == Secrets(Path(SECRETS_DIR)).nats_config.name
    assert "password" not in content and "authorization" not in content


# --- the NATS chart's values (Kubernetes) ---------------------------------------------------


def test_nats_values_carry_the_rendered_users_reading_passwords_from_the_environment() -> None:
    values = _nats_values()
    data = values["configMap"]["merge"]["data"]
    includes = {k: v for k, v in values["config"]["merge"].items() if k.endswith("$include")}
    assert list(includes.values()) == ["authorization.conf"]
    assert data["authorization.conf"] == nats_authorization_from_env(), (
        "deploy/nats/values.yaml is out of step with nats_permissions.py: paste the output of "
        "`python -m boletos.provision --nats-config-from-env` into configMap.merge.data"
    )
    env = values["container"]["env"]
    for user in USERS:
        source = env[nats_password_variable(user)]["valueFrom"]["secretKeyRef"]
        # The Secret the service mounts as its NATS_PASSWORD_FILE (deploy/k8s/base).
        assert source == {"name": f"nats-{user}", "key": "password"}, user


def _committed_nats_configs() -> list[tuple[str, str]]:
    data = _nats_values()["configMap"]["merge"]["data"]
    configs = [(f"deploy/nats/values.yaml: {key}", text) for key, text in data.items()]
    for name, config in _compose()["configs"].items():
        configs.append((f"docker-compose.yml: {name}", config["content"]))
    for path in DEPLOY.rglob("*.conf"):
        configs.append((str(path.relative_to(ROOT)), path.read_text()))
    return configs


def test_no_nats_password_is_committed() -> None:
    for where, text in _committed_nats_configs():
        for password in re.findall(r"\bpassword\s*[:=]\s*([^,}\s]+)", text):
            assert re.fullmatch(r"\$[A-Z_]+", password), f"{where}: a password written down"
    # The servers' variables are set only from Secrets (valueFrom), never to a value.
    variables = "|".join(nats_password_variable(user) for user in USERS)
    for path in [COMPOSE, *DEPLOY.rglob("*.yaml")]:
        for line in path.read_text().splitlines():
            assert not re.search(rf"\b({variables})\s*[:=]\s*[^\s{{]", line), (
                f"{path.relative_to(ROOT)}: {line.strip()}"
            )
    # The development overlay's placeholders say what they are.
    dev = yaml.safe_load((DEPLOY / "k8s" / "overlays" / "dev" / "kustomization.yaml").read_text())
    generated = {g["name"]: g for g in dev["secretGenerator"]}
    for user in USERS:
        secret = generated[f"nats-{user}"]
        assert secret["literals"] == [f"password=dev-only-{user}-nats-password"], user
        # The Helm release names the Secret; a hashed name would leave it behind.
        assert secret["options"]["disableNameSuffixHash"] is True, user


# --- the values' block on a real server ------------------------------------------------------


def _has_nats_server() -> bool:
    try:
        nats_server_binary()
    except FileNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _has_nats_server(), reason="nats-server is not installed")
async def test_the_values_block_lets_each_user_in_with_the_password_from_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Passwords shaped as overlays/prod/README.md makes them: a letter, then hex.
    passwords = {user: f"n{index}e10{user}0123456789abcdef" for index, user in enumerate(USERS)}
    for user, password in passwords.items():
        monkeypatch.setenv(nats_password_variable(user), password)
    block = _nats_values()["configMap"]["merge"]["data"]["authorization.conf"]
    server = NatsServer(tmp_path / "nats", authorization=block).start()
    try:
        for user, password in passwords.items():
            nc = await nats.connect(server.url, user=user, password=password, allow_reconnect=False)
            await nc.close()
            with pytest.raises(NatsError):
                await nats.connect(
                    server.url,
                    user=user,
                    password=password + "x",
                    allow_reconnect=False,
                    max_reconnect_attempts=0,
                    connect_timeout=2,
                )
    finally:
        server.stop()
