"""Imports point one way: within a service from the composition root down to the domain, and
across the repository from the tools down to the shared kernel.

A service's folders are its layers. The domain is pure and imports no other layer; the
service layer (use cases) reaches the store only through protocols it defines; the store
knows the domain alone; adapters (messaging, api, notifications, ...) sit on top of those;
app.py and config.py wire everything. Read from the source with ast, so a new file is held
to the rule the moment it exists.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest_service", "boleto_service", "mailer_service", "gateway_service")
KERNEL = "boletos"
TOOLS = ("boletos_cli", "boletos_bench", "boletos_testing", "boletos_docs")
# What tests and benchmarks run against; the benchmarks build on it, never the other way.
TESTING = "boletos_testing"
# The benchmarks a test may import: the ones it tests. Data, servers, ports and samples a
# test needs come from TESTING, so a benchmark can change without touching a test.
BENCHMARKS_UNDER_TEST = {
    "boletos_bench.cost_guard",
    "boletos_bench.e2e",
    "boletos_bench.gateway_bench",
    "boletos_bench.ingest_floor",
    "boletos_bench.mail_bench",
    "boletos_bench.nats_auth_bench",
    "boletos_bench.procs",
    "boletos_bench.progress_bench",
}

# What each layer of a service may import from its own service, besides itself.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    # Printing a boleto is pure computation on domain values.
    "documents": {"domain"},
    "service": {"domain", "documents"},
    "store": {"domain"},
    "delivery": {"domain"},
    "clients": {"domain"},
    "messaging": {"domain", "service", "store"},
    "notifications": {"domain", "service", "store"},
    # The gateway's HTTP layer calls the services through its clients.
    "api": {"domain", "service", "store", "documents", "clients"},
}
# The composition root and the configuration may wire any layer.
ROOT_MODULES = {"app", "config", "__main__", "__init__", "healthcheck"}


def _imports(path: Path, package: str) -> list[str]:
    """Absolute names of the modules a file imports, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                names.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                names.append(node.module)
    return names


def _modules(top: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / top).rglob("*.py")):
        if path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
            continue
        relative = path.relative_to(ROOT).with_suffix("")
        parts = relative.parts
        package = ".".join(parts if path.name == "__init__.py" else parts[:-1])
        found.append((path, package))
    return found


def _layer(path: Path, service: str) -> str:
    parts = path.relative_to(ROOT / service).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


@pytest.mark.parametrize("service", SERVICES)
def test_a_services_layers_import_downward_only(service: str) -> None:
    wrong = []
    for path, package in _modules(service):
        layer = _layer(path, service)
        if layer in ROOT_MODULES:
            continue
        assert layer in ALLOWED, f"{path}: layer {layer!r} has no rule; add it to ALLOWED"
        for name in _imports(path, package):
            top, _, rest = name.partition(".")
            if top in SERVICES and top != service:
                wrong.append(f"{path.relative_to(ROOT)} imports another service: {name}")
            elif top in TOOLS:
                wrong.append(f"{path.relative_to(ROOT)} imports a tool: {name}")
            elif top == service and rest:
                target = rest.split(".")[0]
                if target != layer and target not in ALLOWED[layer]:
                    wrong.append(f"{path.relative_to(ROOT)} ({layer}) imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_shared_kernel_imports_no_service_and_no_tool() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, package in _modules(KERNEL)
        for name in _imports(path, package)
        if name.partition(".")[0] in (*SERVICES, *TOOLS)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_cli_does_not_import_the_benchmarks_or_the_test_doubles() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, package in _modules("boletos_cli")
        for name in _imports(path, package)
        if name.partition(".")[0] in ("boletos_bench", TESTING)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_test_doubles_import_no_benchmark_and_no_test() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, package in _modules(TESTING)
        for name in _imports(path, package)
        if name.partition(".")[0] in ("boletos_bench", "tests")
    ]
    assert not wrong, "\n".join(wrong)


def _benchmarks_imported(path: Path) -> set[str]:
    """The benchmark modules a file imports; `from boletos_bench import e2e` names
    boletos_bench.e2e, which _imports would report as the package alone."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if node.module == "boletos_bench":
                names.update(f"boletos_bench.{alias.name}" for alias in node.names)
            else:
                names.add(node.module)
    return {name for name in names if name.partition(".")[0] == "boletos_bench"}


def test_tests_import_a_benchmark_only_to_test_it() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}; take what it needs from {TESTING}"
        for path, _package in _modules("tests")
        for name in sorted(_benchmarks_imported(path) - BENCHMARKS_UNDER_TEST)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_rule_sees_a_wrong_import() -> None:
    # A rule that could never fail would prove nothing: an upward import must be caught.
    names = _imports(ROOT / "ingest_service" / "api" / "servicer.py", "ingest_service.api")
    assert "ingest_service.service.upload_session" in names
    assert "ingest_service.api" not in ALLOWED["store"]
