"""The alerting and SLO rules of deploy/prometheus: Prometheus accepts them, their unit tests
pass, every alert has a test in which it fires and one in which it stays quiet, and every
alert says how bad it is, what happened and where the runbook is.
(test_metric_names.py checks the metrics they read.)"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULE_FILES = [PROMETHEUS / "alerts.yml", PROMETHEUS / "slo-rules.yml"]
TEST_FILES = sorted((PROMETHEUS / "tests").glob("*.yml"))
OPERATIONS = ROOT / "docs" / "operations.md"

# critical pages someone now; warning is for the working day.
SEVERITIES = {"critical", "warning"}


def _rules() -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(group["rules"])
    return rules


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_prometheus_accepts_the_rules() -> None:
    result = _promtool("check", "rules", *(str(p) for p in RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_accepts_the_configuration() -> None:
    # Loads the rule files it names too, so the two agree on where they are.
    result = _promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: p.name)
def test_rule_unit_tests_pass(test_file: Path) -> None:
    result = _promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: dict[str, int] = defaultdict(int)
    quiet: dict[str, int] = defaultdict(int)
    for path in TEST_FILES:
        suite = yaml.safe_load(path.read_text())
        assert {Path(f).name for f in suite["rule_files"]} == {p.name for p in RULE_FILES}, path
        for group in suite["tests"]:
            for case in group.get("alert_rule_test", []):
                if case.get("exp_alerts"):
                    firing[case["alertname"]] += 1
                else:
                    quiet[case["alertname"]] += 1
    names = [alert["alert"] for alert in _alerts()]
    assert len(names) == len(set(names)), "an alert name is used twice"
    untested = {
        name: [what for what, cases in (("firing", firing), ("quiet", quiet)) if not cases[name]]
        for name in names
    }
    assert {name: what for name, what in untested.items() if what} == {}, (
        "alerts without a test case in deploy/prometheus/tests in which they are firing/quiet"
    )
    unknown = (set(firing) | set(quiet)) - set(names)
    assert unknown == set(), f"test cases for alerts that do not exist: {sorted(unknown)}"


def _anchors(markdown: str) -> set[str]:
    """The anchors a Markdown renderer gives the headings, GitHub's way."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", markdown, re.MULTILINE):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


def test_every_alert_has_severity_summary_description_and_a_runbook() -> None:
    anchors = _anchors(OPERATIONS.read_text())
    for alert in _alerts():
        name = alert["alert"]
        assert alert.get("labels", {}).get("severity") in SEVERITIES, name
        annotations = alert.get("annotations", {})
        assert annotations.get("summary") and annotations.get("description"), name
        page, _, anchor = annotations.get("runbook", "").partition("#")
        assert page == "docs/operations.md", f"{name}: runbook {annotations.get('runbook')!r}"
        assert anchor in anchors, f"{name}: docs/operations.md has no section #{anchor}"


def test_burn_rate_alerts_read_recorded_ratios() -> None:
    # A burn-rate alert on a ratio nobody records never fires and never says so.
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    for alert in _alerts():
        if "BudgetBurn" not in alert["alert"]:
            continue
        used = set(re.findall(r"boletos:\w+:error_ratio_rate\w+", alert["expr"]))
        assert used, alert["alert"]
        assert used <= recorded, f"{alert['alert']}: not recorded: {sorted(used - recorded)}"
