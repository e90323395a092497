"""The documentation holds together: a short README, links that lead somewhere, and the tables
that copy the code (the layers, the RPCs) equal to it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import boletos.v1
from tests.unit.test_layers import ALLOWED, ROOT_MODULES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README_MAX_LINES = 200
# [text](target), the target up to its closing parenthesis or a space (a title).
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")
# A row of an RPC table: | `Name(request fields)` | what it does |
RPC_ROW = re.compile(r"\| `(\w+)\(")


def _pages() -> list[Path]:
    return [
        *(ROOT / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md")),
        *sorted(DOCS.glob("*.md")),
    ]


def _split(text: str) -> tuple[list[str], list[str]]:
    """The page's lines outside fenced code blocks, and those inside them."""
    outside: list[str] = []
    inside: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        (inside if fenced else outside).append(line)
    return outside, inside


def _outside_code(text: str) -> list[str]:
    return _split(text)[0]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for line in _outside_code(page.read_text()):
        match = re.match(r"#{1,6} (.+)", line)
        if not match:
            continue
        slug = _slug(match[1])
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, more than {README_MAX_LINES}: move the detail to docs/"
    )


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    _, code = _split((ROOT / "README.md").read_text())
    fenced = [line.split("#")[0].strip() for line in code]
    assert "make test" in fenced, "README.md no longer shows `make test` in a code block"
    assert "make run" in fenced, "README.md no longer shows `make run` in a code block"
    script = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert script[-1].removeprefix("exec ") == "make test"


def test_every_relative_link_leads_to_a_file_and_heading_that_exist() -> None:
    broken = []
    for page in _pages():
        for line in _outside_code(page.read_text()):
            for target in LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                    continue
                path, _, anchor = target.partition("#")
                linked = (page.parent / path).resolve() if path else page
                where = f"{page.relative_to(ROOT)}: {target}"
                if not linked.exists():
                    broken.append(f"{where} (no such file)")
                elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                    broken.append(f"{where} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_link_checker_sees_a_broken_anchor() -> None:
    # A checker that could never fail would prove nothing.
    anchors = _anchors(DOCS / "banks-and-beneficiaries.md")
    assert "instructions-to-the-bank" in anchors
    assert "the-payers-address" in anchors
    assert "no-such-heading" not in anchors
    assert _slug("`boletos.v1.IngestService` (`ingest.proto`, port 50051)") == (
        "boletosv1ingestservice-ingestproto-port-50051"
    )


def _section(page: Path, heading: str) -> list[str]:
    """The lines under the first heading that contains `heading`, up to the next one of its
    level or above."""
    lines = _outside_code(page.read_text())
    for i, line in enumerate(lines):
        match = re.match(r"(#{1,6}) ", line)
        if match and heading in line:
            level = len(match[1])
            rest = []
            for following in lines[i + 1 :]:
                other = re.match(r"(#{1,6}) ", following)
                if other and len(other[1]) <= level:
                    break
                rest.append(following)
            return rest
    raise AssertionError(f"{page.relative_to(ROOT)} has no heading with {heading!r}")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _expected_layer_table() -> str:
    def imports(allowed: set[str]) -> str:
        return ", ".join(f"`{name}`" for name in sorted(allowed)) or "nothing"

    rows = [f"| `{layer}` | ... | {imports(allowed)} |" for layer, allowed in ALLOWED.items()]
    roots = ", ".join(f"`{name}.py`" for name in sorted(ROOT_MODULES))
    rows.append(f"| {roots} | ... | any layer |")
    return "\n".join(rows)


def test_the_layer_table_is_the_layering_tests_table() -> None:
    documented: dict[str, set[str]] = {}
    roots: set[str] = set()
    for line in _section(DOCS / "architecture.md", "Layers"):
        if not line.startswith("| `"):
            continue
        cells = _cells(line)
        names = set(re.findall(r"`([\w.]+)`", cells[0]))
        may_import = set(re.findall(r"`(\w+)`", cells[-1]))
        if all(name.endswith(".py") for name in names):
            roots |= {name.removesuffix(".py") for name in names}
            assert cells[-1] == "any layer", line
            continue
        assert len(names) == 1, f"one layer per row: {line}"
        assert may_import or cells[-1] == "nothing", line
        documented[names.pop()] = may_import
    hint = f"docs/architecture.md's layer table should read:\n{_expected_layer_table()}"
    assert documented == ALLOWED, hint
    assert roots == ROOT_MODULES, hint


def _services() -> dict[str, list[str]]:
    """Every gRPC service of the contracts, with its RPCs, from the generated descriptors."""
    services: dict[str, list[str]] = {}
    for module in pkgutil.iter_modules(boletos.v1.__path__):
        if not module.name.endswith("_pb2"):
            continue
        descriptor = importlib.import_module(f"boletos.v1.{module.name}").DESCRIPTOR
        for service in descriptor.services_by_name.values():
            services[service.full_name] = [method.name for method in service.methods]
    return services


def test_the_contracts_doc_lists_every_rpc_of_every_service() -> None:
    services = _services()
    assert {"boletos.v1.IngestService", "boletos.v1.KeyService"} <= set(services)
    for name, methods in services.items():
        listed = [
            match[1]
            for line in _section(DOCS / "contracts.md", f"`{name}`")
            if (match := RPC_ROW.match(line))
        ]
        assert sorted(listed) == sorted(methods), (
            f"docs/contracts.md lists {sorted(listed)} under {name}, which has {sorted(methods)}"
        )
