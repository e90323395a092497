"""The Kubernetes manifests (deploy/k8s), the NATS chart values and the CI workflow agree with
the code: each overlay is rendered with `kubectl kustomize` and its objects are checked against
what the services read, listen on and consume."""

from __future__ import annotations

import base64
import functools
import importlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from boletos.platform import nats_permissions, nats_streams
from boletos.platform.settings import ServiceSettings
from tests.support import access

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
NAMESPACES = {"dev": "boletos-dev", "prod": "boletos"}
# Deployment (and migration Job) name -> the module it runs.
SERVICES = {"ingest": "ingest_service", "boleto": "boleto_service", "mailer": "mailer_service"}
# The HTTP gateway: a Deployment without a store, NATS or gRPC port of its own.
GATEWAY = "gateway"
KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed: the manifests cannot be rendered"
)

Obj = dict[str, Any]


def _kustomize(directory: Path) -> list[Obj]:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
    return [o for o in yaml.safe_load_all(done.stdout) if o]


@functools.cache
def _render(overlay: str) -> tuple[Obj, ...]:
    return tuple(_kustomize(K8S / "overlays" / overlay))


def _objects(overlay: str, kind: str) -> list[Obj]:
    return [o for o in _render(overlay) if o["kind"] == kind]


def _named(overlay: str, kind: str, name: str) -> Obj:
    found = [o for o in _objects(overlay, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{overlay}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def _all_deployments(overlay: str) -> dict[str, Obj]:
    deployments = {d["metadata"]["name"]: d for d in _objects(overlay, "Deployment")}
    assert set(deployments) == {*SERVICES, GATEWAY}, f"{overlay}: Deployments {sorted(deployments)}"
    return deployments


def _deployments(overlay: str) -> dict[str, Obj]:
    """The gRPC services' Deployments; the gateway's has tests of its own below."""
    return {n: d for n, d in _all_deployments(overlay).items() if n in SERVICES}


def _gateway(overlay: str) -> Obj:
    return _all_deployments(overlay)[GATEWAY]


def _migration_jobs(overlay: str) -> list[Obj]:
    return [
        j
        for j in _objects(overlay, "Job")
        if j["metadata"]["labels"].get("app.kubernetes.io/component") == "migration"
    ]


def _workloads(overlay: str) -> list[Obj]:
    return [*_all_deployments(overlay).values(), *_migration_jobs(overlay)]


def _container(workload: Obj) -> Obj:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{workload['metadata']['name']}: one container expected"
    return containers[0]


def _pod_labels(workload: Obj) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a Kubernetes label selector matches `labels` (None selects nothing)."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


# --- what the code reads ------------------------------------------------------------------


class _RecordingEnv(dict[str, str]):
    """The least environment a service accepts, remembering every variable asked of it (as
    tests/unit/test_build_files.py does for compose and the README)."""

    def __init__(self) -> None:
        super().__init__(access.minimal_env())
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)


@functools.cache
def _service_reads(module: str) -> tuple[frozenset[str], Any]:
    """The variables a service's configuration reads, and its settings by default."""
    env = _RecordingEnv()
    settings = importlib.import_module(f"{module}.config").Settings.from_env(env)
    return frozenset(env.asked), settings


@functools.cache
def _migrate_reads() -> frozenset[str]:
    """The variables `python -m <service> migrate` reads."""
    env = _RecordingEnv()
    ServiceSettings.read_store(env, database="any")
    return frozenset(env.asked)


def _consumers() -> dict[str, tuple[str, str]]:
    """Deployment name -> (stream, durable) of the JetStream consumer it scales with."""
    from boleto_service.messaging import debts_consumer
    from mailer_service.messaging import boletos_consumer

    boleto = debts_consumer.consumer_spec(ack_wait_seconds=10, fetch_batch=4)
    mailer = boletos_consumer.consumer_spec(ack_wait_seconds=10)
    return {"boleto": (boleto.stream, boleto.durable), "mailer": (mailer.stream, mailer.durable)}


def _dockerfile_user() -> tuple[int, int]:
    users = [
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("USER ")
    ]
    uid, _, gid = users[-1].partition(":")
    return int(uid), int(gid or uid)


# --- environment of a rendered container ---------------------------------------------------


def _env_names(overlay: str, container: Obj) -> set[str]:
    names = {e["name"] for e in container.get("env") or []}
    for source in container.get("envFrom") or []:
        assert "configMapRef" in source, f"{container['name']}: envFrom only from ConfigMaps"
        config = _named(overlay, "ConfigMap", source["configMapRef"]["name"])
        names |= set(config.get("data") or {})
    return names


def _env_entry(container: Obj, name: str) -> Obj:
    entries = [e for e in container.get("env") or [] if e["name"] == name]
    assert len(entries) == 1, f"{container['name']} sets {name} {len(entries)} times in env"
    return entries[0]


def _env_value(overlay: str, container: Obj, name: str) -> str | None:
    """The value `name` gets in the container, or None where it comes from a Secret the render
    does not hold."""
    for entry in reversed(container.get("env") or []):
        if entry["name"] != name:
            continue
        if "value" in entry:
            return str(entry["value"])
        source = entry["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            return str(_named(overlay, "ConfigMap", ref["name"])["data"][ref["key"]])
        ref = source["secretKeyRef"]
        secrets = [s for s in _objects(overlay, "Secret") if s["metadata"]["name"] == ref["name"]]
        if not secrets:
            return None
        return base64.b64decode(secrets[0]["data"][ref["key"]]).decode()
    for source in reversed(container.get("envFrom") or []):
        data = _named(overlay, "ConfigMap", source["configMapRef"]["name"]).get("data") or {}
        if name in data:
            return str(data[name])
    raise AssertionError(f"{container['name']} does not set {name}")


# --- the workloads -------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_deployment_runs_its_service_with_only_variables_the_service_reads(
    overlay: str,
) -> None:
    for name, deployment in _deployments(overlay).items():
        module = SERVICES[name]
        container = _container(deployment)
        assert container["command"] == ["python", "-m", module], name
        assert (ROOT / module / "__main__.py").is_file()
        known, _ = _service_reads(module)
        unknown = _env_names(overlay, container) - known
        assert not unknown, f"{overlay}/{name} sets {sorted(unknown)}, which {module} never reads"
        # Service links would add variables of their own (INGEST_PORT and the like).
        assert deployment["spec"]["template"]["spec"].get("enableServiceLinks") is False, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_migration_job_per_service_runs_migrate_before_the_rollout(overlay: str) -> None:
    jobs = _migration_jobs(overlay)
    migrated = {j["metadata"]["labels"]["app.kubernetes.io/name"] for j in jobs}
    assert sorted(migrated) == sorted(SERVICES) and len(jobs) == len(SERVICES)
    deployments = _deployments(overlay)
    for job in jobs:
        name = job["metadata"]["labels"]["app.kubernetes.io/name"]
        container = _container(job)
        assert container["command"] == ["python", "-m", SERVICES[name], "migrate"], name
        unknown = _env_names(overlay, container) - _migrate_reads()
        assert not unknown, f"{overlay}: {name}'s migration sets {sorted(unknown)}, never read"
        service = _container(deployments[name])
        # The same Secret key, which prod's render does not hold the value of.
        assert _env_entry(container, "DATABASE_URL") == _env_entry(service, "DATABASE_URL"), (
            f"{name}: the Job migrates another database than the service uses"
        )
        # Argo CD runs the Jobs in an earlier wave than the Deployments.
        wave = int(job["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        rollout = int(deployments[name]["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        assert wave < rollout, name
    for name, deployment in deployments.items():
        env = _container(deployment)
        assert _env_value(overlay, env, "DB_AUTO_MIGRATE") == "false", name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_grpc_ports_are_the_services_own(overlay: str) -> None:
    services = _objects(overlay, "Service")
    for name, deployment in _deployments(overlay).items():
        _, defaults = _service_reads(SERVICES[name])
        expected = _port(defaults.grpc_listen_addr)
        container = _container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports.get("grpc") == expected, f"{overlay}/{name}: gRPC port {ports.get('grpc')}"
        assert _port(_env_value(overlay, container, "GRPC_LISTEN_ADDR") or "") == expected
        assert _port(_env_value(overlay, container, "METRICS_ADDR") or "") == ports["metrics"]
        exposing = [
            s
            for s in services
            if _selects({"matchLabels": s["spec"].get("selector")}, _pod_labels(deployment))
        ]
        assert exposing, f"{overlay}: no Service selects the {name} pods"
        for service in exposing:
            grpc = [p for p in service["spec"]["ports"] if p["name"] == "grpc"]
            assert grpc and grpc[0]["port"] == expected, service["metadata"]["name"]
            assert grpc[0]["targetPort"] in ("grpc", expected)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_the_images_user_locked_down(overlay: str) -> None:
    uid, gid = _dockerfile_user()
    for workload in _workloads(overlay):
        name = workload["metadata"]["name"]
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == uid, name
        assert pod["securityContext"]["runAsGroup"] == gid, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod.get("automountServiceAccountToken") is False, name
        container = _container(workload)
        assert container["image"].rsplit("/", 1)[-1].split(":")[0] == "boletos", name
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        # A read-only root leaves only the mounts writable: /tmp must be one.
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        tmp = [m for m in container.get("volumeMounts") or [] if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{name}: no writable /tmp"
        assert container["resources"]["requests"] and container["resources"]["limits"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_ask_grpc_health_on_the_plain_text_health_port(overlay: str) -> None:
    for name, deployment in _deployments(overlay).items():
        container = _container(deployment)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        health = _port(_env_value(overlay, container, "GRPC_HEALTH_LISTEN_ADDR") or "")
        # The gRPC port serves TLS, which kubelet's gRPC probes cannot speak.
        assert health == ports.get("health") and health != ports["grpc"], name
        for kind in ("readinessProbe", "livenessProbe"):
            assert container[kind]["grpc"]["port"] == health, f"{overlay}/{name} {kind}"
        if "startupProbe" in container:
            assert container["startupProbe"]["grpc"]["port"] == health, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_waits_longer_than_the_services_shutdown_grace(overlay: str) -> None:
    for name, deployment in _deployments(overlay).items():
        container = _container(deployment)
        explicit = {e["name"] for e in container.get("env") or []}
        assert "SHUTDOWN_GRACE_SECONDS" in explicit, f"{name}: set it beside the grace period"
        grace = int(_env_value(overlay, container, "SHUTDOWN_GRACE_SECONDS") or "")
        pre_stop = container.get("lifecycle", {}).get("preStop", {})
        delay = int(pre_stop.get("sleep", {}).get("seconds", 0))
        period = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        # kubelet counts the preStop hook in the period; the drain and the final outbox
        # publish and close come after the service's own grace.
        assert period >= delay + grace + 10, (
            f"{overlay}/{name}: terminationGracePeriodSeconds {period} leaves no room after "
            f"{delay} s preStop and SHUTDOWN_GRACE_SECONDS={grace}"
        )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_disruption_budget_covers_each_deployment_and_nothing_else(overlay: str) -> None:
    budgets = _objects(overlay, "PodDisruptionBudget")
    for name, deployment in _deployments(overlay).items():
        covering = [b for b in budgets if _selects(b["spec"]["selector"], _pod_labels(deployment))]
        assert len(covering) == 1, f"{overlay}: {len(covering)} budgets cover {name}"
        # The Deployment's own selector, so a budget never counts a migration Job's pod.
        assert covering[0]["spec"]["selector"] == deployment["spec"]["selector"], name
        spec = covering[0]["spec"]
        assert spec.get("maxUnavailable") == 1 or spec.get("minAvailable") == 1, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_mailer_balances_over_every_boleto_pod_through_a_headless_service(
    overlay: str,
) -> None:
    deployments = _deployments(overlay)
    boleto = deployments["boleto"]
    boleto_services = [
        s
        for s in _objects(overlay, "Service")
        if _selects({"matchLabels": s["spec"].get("selector")}, _pod_labels(boleto))
    ]
    assert boleto_services, f"{overlay}: no Service selects the boleto pods"
    for service in boleto_services:
        assert service["spec"].get("clusterIP") == "None", "the boleto Service must be headless"
    address = _env_value(overlay, _container(deployments["mailer"]), "BOLETO_ADDR") or ""
    match = re.fullmatch(r"dns:///([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)", address)
    assert match, f"{overlay}: BOLETO_ADDR {address!r} is not dns:///<service>.<ns>.svc...:port"
    service_name, namespace, port = match[1], match[2], int(match[3])
    assert service_name in {s["metadata"]["name"] for s in boleto_services}, address
    assert namespace == NAMESPACES[overlay], address
    _, defaults = _service_reads("boleto_service")
    assert port == _port(defaults.grpc_listen_addr), address


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lives_in_the_overlays_namespace(overlay: str) -> None:
    namespace = NAMESPACES[overlay]
    for obj in _render(overlay):
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == namespace
        else:
            assert obj["metadata"].get("namespace") == namespace, obj["metadata"]["name"]
    nats_url = _env_value(overlay, _container(_deployments(overlay)["ingest"]), "NATS_URL") or ""
    assert urlsplit(nats_url).hostname == f"nats.{namespace}.svc.cluster.local", nats_url


def _external_secrets() -> set[str]:
    """The Secrets overlays/prod/README.md tells operators to create (its table's first
    column)."""
    readme = (K8S / "overlays" / "prod" / "README.md").read_text()
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, re.M))


def _references(workload: Obj) -> Iterator[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret a workload's pods use."""
    pod = workload["spec"]["template"]["spec"]
    for container in pod["containers"]:
        for entry in container.get("env") or []:
            source = entry.get("valueFrom") or {}
            if "secretKeyRef" in source:
                yield "Secret", source["secretKeyRef"]["name"]
            if "configMapKeyRef" in source:
                yield "ConfigMap", source["configMapKeyRef"]["name"]
        for source in container.get("envFrom") or []:
            if "secretRef" in source:
                yield "Secret", source["secretRef"]["name"]
            if "configMapRef" in source:
                yield "ConfigMap", source["configMapRef"]["name"]
    for volume in pod.get("volumes") or []:
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"]
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_and_config_map_used_exists_or_is_documented(overlay: str) -> None:
    rendered = {(o["kind"], o["metadata"]["name"]) for o in _render(overlay)}
    issued = {
        ("Secret", c["spec"]["secretName"]) for c in _objects(overlay, "Certificate")
    }  # written by cert-manager
    external = {("Secret", name) for name in _external_secrets()} if overlay == "prod" else set()
    for workload in _workloads(overlay):
        for reference in _references(workload):
            assert reference in rendered | issued | external, (
                f"{overlay}: {workload['metadata']['name']} uses {reference}, which is neither "
                "rendered nor listed in overlays/prod/README.md"
            )
    if overlay == "prod":
        # Credentials stay out of the repository.
        assert not _objects(overlay, "Secret")


# --- NATS users ------------------------------------------------------------------------------


def _mounted_secret(workload: Obj, path: str) -> tuple[str, str]:
    """(Secret, key) of the file a workload's container sees at `path`."""
    pod = workload["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for mount in _container(workload).get("volumeMounts") or []:
        directory = mount["mountPath"].rstrip("/") + "/"
        if not path.startswith(directory):
            continue
        secret = volumes[mount["name"]].get("secret")
        assert secret, f"{workload['metadata']['name']}: {path} is not in a Secret"
        name = path.removeprefix(directory)
        keys = {i["path"]: i["key"] for i in secret.get("items") or []}
        return secret["secretName"], keys.get(name, name)
    raise AssertionError(f"{workload['metadata']['name']}: nothing mounted at {path}")


@pytest.mark.parametrize("overlay", (*OVERLAYS, "base"))
def test_each_service_connects_to_nats_as_its_own_user_with_a_mounted_password(
    overlay: str,
) -> None:
    rendered = _kustomize(K8S / overlay) if overlay == "base" else list(_render(overlay))
    config_maps = {o["metadata"]["name"]: o for o in rendered if o["kind"] == "ConfigMap"}
    deployments = [o for o in rendered if o["kind"] == "Deployment"]
    users = []
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        container = _container(deployment)
        env: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            env.update(config_maps[source["configMapRef"]["name"]].get("data") or {})
        env.update({e["name"]: e["value"] for e in container.get("env") or [] if "value" in e})
        if name == GATEWAY:
            # It speaks to the services only: no NATS connection, no NATS credential.
            assert not {"NATS_URL", "NATS_USER", "NATS_PASSWORD_FILE"} & set(env), env
            continue
        assert env.get("NATS_USER") == name, f"{overlay}/{name}: NATS_USER {env.get('NATS_USER')}"
        assert "NATS_PASSWORD_FILE" in env, f"{overlay}/{name}: no NATS_PASSWORD_FILE"
        # The same Secret and key the NATS servers read the user's password from.
        assert _mounted_secret(deployment, env["NATS_PASSWORD_FILE"]) == (
            f"nats-{name}",
            "password",
        ), name
        users.append(name)
    assert sorted(users) == sorted(nats_permissions.USERS), f"{overlay}: NATS users {users}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_nats_servers_read_the_passwords_of_secrets_the_overlay_makes_or_documents(
    overlay: str,
) -> None:
    env = _nats_values()["container"]["env"]
    rendered = {o["metadata"]["name"] for o in _objects(overlay, "Secret")}
    for user in nats_permissions.USERS:
        secret = env[f"NATS_PASSWORD_{user.upper()}"]["valueFrom"]["secretKeyRef"]["name"]
        if overlay == "prod":
            assert secret in _external_secrets(), f"{secret} is not in overlays/prod/README.md"
        else:
            # Unhashed: the Helm release refers to it by this name.
            assert secret in rendered, f"dev renders no Secret {secret}"


# --- scaling ---------------------------------------------------------------------------------


def test_dev_runs_one_replica_of_each_service_without_autoscaling() -> None:
    for name, deployment in _all_deployments("dev").items():
        assert deployment["spec"].get("replicas") == 1, name
    assert not _objects("dev", "ScaledObject") and not _objects("dev", "HorizontalPodAutoscaler")


def test_prod_runs_two_replicas_of_each_service_and_scales_the_consumers_with_keda() -> None:
    deployments = _all_deployments("prod")
    scaled = {o["spec"]["scaleTargetRef"]["name"]: o for o in _objects("prod", "ScaledObject")}
    assert set(scaled) == {"boleto", "mailer"}
    # KEDA and an HPA on the same Deployment would fight over its replica count.
    assert not _objects("prod", "HorizontalPodAutoscaler")
    for name, deployment in deployments.items():
        if name in scaled:
            assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns replicas"
            assert scaled[name]["spec"]["minReplicaCount"] == 2, name
        else:
            assert deployment["spec"].get("replicas") == 2, name


def test_keda_scales_on_consumers_the_code_declares() -> None:
    consumers = _consumers()
    streams = {spec.name for spec in nats_streams.STREAMS}
    for scaled_object in _objects("prod", "ScaledObject"):
        target = scaled_object["spec"]["scaleTargetRef"]["name"]
        triggers = [t for t in scaled_object["spec"]["triggers"] if t["type"] == "nats-jetstream"]
        assert triggers, target
        for trigger in triggers:
            metadata = trigger["metadata"]
            # KEDA counts a whole stream as lag when no consumer has the name it is given.
            assert (metadata["stream"], metadata["consumer"]) == consumers[target], target
            assert metadata["stream"] in streams
            host, _, port = metadata["natsServerMonitoringEndpoint"].partition(":")
            assert host == f"nats-headless.{NAMESPACES['prod']}.svc.cluster.local", host
            assert int(port) == _nats_values()["config"]["monitor"]["port"]


def test_the_hpa_fallback_targets_the_same_deployments_without_keda(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                # kustomize takes only relative paths.
                "resources": [os.path.relpath(K8S / "base", tmp_path)],
                "components": [os.path.relpath(K8S / "base" / "autoscaling" / "hpa", tmp_path)],
            }
        )
    )
    rendered = _kustomize(tmp_path)
    hpas = [o for o in rendered if o["kind"] == "HorizontalPodAutoscaler"]
    deployments = {o["metadata"]["name"]: o for o in rendered if o["kind"] == "Deployment"}
    assert not [o for o in rendered if o["kind"] == "ScaledObject"]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == {"boleto", "mailer"}
    for hpa in hpas:
        target = deployments[hpa["spec"]["scaleTargetRef"]["name"]]
        assert "replicas" not in target["spec"]
        assert hpa["spec"]["minReplicas"] >= 2


# --- network policies -------------------------------------------------------------------------


def _policies(overlay: str) -> list[Obj]:
    return _objects(overlay, "NetworkPolicy")


def _allowed(overlay: str, direction: str, labels: Mapping[str, str]) -> list[Obj]:
    """The ingress or egress rules that apply to pods with `labels`."""
    kind = direction.capitalize()
    return [
        rule
        for policy in _policies(overlay)
        if kind in policy["spec"]["policyTypes"] and _selects(policy["spec"]["podSelector"], labels)
        for rule in policy["spec"].get(direction) or []
    ]


def _ports(rule: Obj) -> set[int]:
    return {p["port"] for p in rule.get("ports") or []}


def _peers_select(rule: Obj, key: str, labels: Mapping[str, str]) -> bool:
    """Whether the rule's peers (`from` or `to`) include pods with `labels` in this namespace."""
    return any(
        "namespaceSelector" not in peer and _selects(peer.get("podSelector"), labels)
        for peer in rule.get(key) or []
    )


NATS_POD = {"app.kubernetes.io/name": "nats", "app.kubernetes.io/component": "nats"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_open_only_what_the_services_use(
    overlay: str,
) -> None:
    assert any(
        p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
        for p in _policies(overlay)
    ), f"{overlay}: no default-deny policy"
    deployments = _deployments(overlay)
    ports = {
        name: {p["name"]: p["containerPort"] for p in _container(d)["ports"]}
        for name, d in deployments.items()
    }
    # From outside the namespace: ingest's gRPC port, and the metrics port from monitoring.
    for name, deployment in deployments.items():
        for rule in _allowed(overlay, "ingress", _pod_labels(deployment)):
            peers = rule.get("from") or []
            outside = not peers or any("podSelector" not in p for p in peers)
            if not outside:
                continue
            if name == "ingest" and _ports(rule) == {ports["ingest"]["grpc"]}:
                continue
            assert _ports(rule) == {ports[name]["metrics"]} and all(
                p.get("namespaceSelector", {}).get("matchLabels")
                == {"kubernetes.io/metadata.name": "monitoring"}
                for p in peers
            ), f"{overlay}: {name} is reachable from outside the namespace by {rule}"
    # The mailer fetches PDFs from the boleto pods, both ways allowed.
    boleto_port = ports["boleto"]["grpc"]
    mailer, boleto = _pod_labels(deployments["mailer"]), _pod_labels(deployments["boleto"])
    assert any(
        _peers_select(r, "to", boleto) and boleto_port in _ports(r)
        for r in _allowed(overlay, "egress", mailer)
    ), f"{overlay}: the mailer cannot reach the boleto service"
    assert any(
        _peers_select(r, "from", mailer) and boleto_port in _ports(r)
        for r in _allowed(overlay, "ingress", boleto)
    ), f"{overlay}: the boleto service does not admit the mailer"
    assert any({587, 465, 25} <= _ports(r) for r in _allowed(overlay, "egress", mailer)), (
        f"{overlay}: the mailer cannot reach an SMTP relay"
    )
    for workload in _workloads(overlay):
        labels = _pod_labels(workload)
        egress = _allowed(overlay, "egress", labels)
        name = workload["metadata"]["name"]
        assert any(53 in _ports(r) for r in egress), f"{overlay}: {name} has no DNS"
        if name == GATEWAY:
            # No store and no NATS: the services' gRPC ports are all it reaches.
            assert not any({5432, 4222} & _ports(r) for r in egress), f"{overlay}: {egress}"
            continue
        assert any(5432 in _ports(r) for r in egress), f"{overlay}: {name} cannot reach PostgreSQL"
    for deployment in deployments.values():
        labels = _pod_labels(deployment)
        assert any(
            _peers_select(r, "to", NATS_POD) and 4222 in _ports(r)
            for r in _allowed(overlay, "egress", labels)
        ), f"{overlay}: {deployment['metadata']['name']} cannot reach NATS"
        assert any(
            _peers_select(r, "from", labels) and 4222 in _ports(r)
            for r in _allowed(overlay, "ingress", NATS_POD)
        ), f"{overlay}: NATS does not admit {deployment['metadata']['name']}"


# --- the HTTP gateway ---------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_runs_with_only_what_it_reads_and_is_probed_over_https(overlay: str) -> None:
    deployment = _gateway(overlay)
    container = _container(deployment)
    assert container["command"] == ["python", "-m", "gateway_service"]
    known, defaults = _service_reads("gateway_service")
    unknown = _env_names(overlay, container) - known
    assert not unknown, f"{overlay}: the gateway is given {sorted(unknown)}, never read"
    assert deployment["spec"]["template"]["spec"].get("enableServiceLinks") is False
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["https"] == _port(_env_value(overlay, container, "HTTP_LISTEN_ADDR") or "")
    assert ports["https"] == defaults.port
    assert _port(_env_value(overlay, container, "METRICS_ADDR") or "") == ports["metrics"]
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container[kind]["httpGet"]
        assert (probe["path"], probe["scheme"], probe["port"]) == ("/healthz", "HTTPS", "https")
    # The console's sessions are sealed with one key that every replica mounts.
    assert _mounted_secret(
        deployment, _env_value(overlay, container, "CONSOLE_SESSION_KEY_FILE") or ""
    )
    exposing = [
        s
        for s in _objects(overlay, "Service")
        if _selects({"matchLabels": s["spec"].get("selector")}, _pod_labels(deployment))
    ]
    assert [p["port"] for s in exposing for p in s["spec"]["ports"] if p["name"] == "https"] == [
        ports["https"]
    ]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_reaches_each_services_grpc_port_and_they_admit_it(overlay: str) -> None:
    gateway = _pod_labels(_gateway(overlay))
    container = _container(_gateway(overlay))
    for name, deployment in _deployments(overlay).items():
        port = {p["name"]: p["containerPort"] for p in _container(deployment)["ports"]}["grpc"]
        target = _env_value(overlay, container, f"{name.upper()}_ADDR") or ""
        assert _port(target) == port and f".{NAMESPACES[overlay]}.svc" in target, target
        labels = _pod_labels(deployment)
        assert any(
            _peers_select(r, "to", labels) and port in _ports(r)
            for r in _allowed(overlay, "egress", gateway)
        ), f"{overlay}: the gateway cannot reach {name}"
        assert any(
            (_peers_select(r, "from", gateway) or not r.get("from")) and port in _ports(r)
            for r in _allowed(overlay, "ingress", labels)
        ), f"{overlay}: {name} does not admit the gateway"
    # Its HTTPS port is for callers outside the namespace, as ingest's gRPC port is.
    https = {p["name"]: p["containerPort"] for p in container["ports"]}["https"]
    assert any(
        not r.get("from") and _ports(r) == {https} for r in _allowed(overlay, "ingress", gateway)
    )


# --- NATS, PostgreSQL, CI ----------------------------------------------------------------------


def _nats_values() -> Obj:
    values: Obj = yaml.safe_load((ROOT / "deploy" / "nats" / "values.yaml").read_text())
    return values


def test_nats_values_run_a_three_server_jetstream_cluster_on_disk() -> None:
    config = _nats_values()["config"]
    assert config["jetstream"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert config["cluster"]["enabled"] is True
    replicas = config["cluster"]["replicas"]
    assert replicas == 3
    ingest = _container(_deployments("prod")["ingest"])
    assert int(_env_value("prod", ingest, "NATS_STREAM_REPLICAS") or "") == replicas
    # A stream replicated more often than there are servers cannot be created.
    dev = _container(_deployments("dev")["ingest"])
    assert int(_env_value("dev", dev, "NATS_STREAM_REPLICAS") or "") == 1


def test_the_dev_database_urls_name_the_roles_and_databases_postgres_makes() -> None:
    postgres = _kustomize(ROOT / "deploy" / "postgres")
    cluster = next(o for o in postgres if o["kind"] == "Cluster")
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    databases = {
        (d["spec"]["name"], d["spec"]["owner"])
        for d in postgres
        if d["kind"] == "Database" and d["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    }
    seen = set()
    for name, deployment in _deployments("dev").items():
        url = urlsplit(_env_value("dev", _container(deployment), "DATABASE_URL") or "")
        database = url.path.lstrip("/")
        assert url.username in roles, f"{name}: role {url.username} is not managed"
        assert (database, url.username) in databases, f"{name}: no database {database}"
        assert (url.hostname or "").startswith(f"{cluster['metadata']['name']}-rw."), url.hostname
        seen.add(database)
    assert len(seen) == len(SERVICES), "each service needs a database of its own"


def _workflow() -> dict[Any, Any]:
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
    workflow: dict[Any, Any] = yaml.safe_load(text)
    return workflow


def test_ci_runs_lint_and_the_tests_with_postgresql_and_builds_the_image() -> None:
    workflow = _workflow()
    # YAML 1.1 reads the key `on` as true.
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert {"push", "pull_request"} <= set(triggers)
    jobs = workflow["jobs"]
    runs = [
        step.get("run", "")
        for job in jobs.values()
        for step in job["steps"]
        if isinstance(step.get("run"), str)
    ]
    commands = [line.strip() for run in runs for line in run.splitlines()]
    assert "make lint" in commands and "make test" in commands
    assert commands.index("make lint") < commands.index("make test")
    test_job = next(j for j in jobs.values() if "make test" in [s.get("run") for s in j["steps"]])
    assert test_job["services"]["postgres"]["image"].startswith("postgres:")
    builds = [
        step
        for job in jobs.values()
        for step in job["steps"]
        if str(step.get("uses", "")).startswith("docker/build-push-action@")
    ]
    assert builds and all(step["with"]["push"] is False for step in builds)
