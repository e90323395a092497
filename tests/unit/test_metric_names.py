"""Every metric the alerting rules and the Grafana dashboard read is one the services export,
or a series the rules record: a renamed metric must not leave an alert that can never fire or
a panel that stays empty without anyone noticing.

The exported names come from the services themselves: importing their composition roots
registers every metric in prometheus_client's default registry, which knows each one's type
and so the names of its samples."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULE_FILES = [PROMETHEUS / "alerts.yml", PROMETHEUS / "slo-rules.yml"]
DASHBOARD = ROOT / "deploy" / "grafana" / "boletos.json"

# Each service's app module imports everything that service runs.
SERVICES = ["ingest_service.app", "boleto_service.app", "mailer_service.app"]

# Series Prometheus makes itself.
BUILT_IN = {"up", "scrape_duration_seconds", "ALERTS", "ALERTS_FOR_STATE"}

# The samples a metric of each type exposes, as prometheus_client names them.
SUFFIXES = {
    "counter": ["_total", "_created"],
    "gauge": [""],
    "histogram": ["_bucket", "_sum", "_count", "_created"],
    "summary": ["", "_sum", "_count", "_created"],
    "info": ["_info"],
    "stateset": [""],
    "gaugehistogram": ["_bucket", "_gsum", "_gcount"],
    "unknown": [""],
}

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "atan2",
}  # fmt: skip


def exported_names() -> set[str]:
    for module in SERVICES:
        importlib.import_module(module)
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana query over one) reads."""
    # Grafana's label_values(metric, label) reads the metric; the label is no metric.
    expr = re.sub(r"label_values\(\s*([^,()]*?)\s*(?:,\s*\w+\s*)?\)", r"(\1)", expr)
    expr = re.sub(r"\$\{?\w+(?::\w+)?\}?", "", expr)  # Grafana variables
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    # Label lists of aggregations and vector matching.
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\boffset\s+-?\w+", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.:])[a-zA-Z_:][\w:]*", expr):
        rest = expr[match.end() :].lstrip()
        if rest.startswith("("):  # a function or an aggregation
            continue
        if match.group() in KEYWORDS:
            continue
        names.add(match.group())
    return names


def _rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def _dashboard_queries() -> Iterator[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from panels(item.get("panels", []))

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            yield f"variable {variable['name']!r}", query.get("query", "") or query


def _unknown(queries: list[tuple[str, str]]) -> list[str]:
    known = exported_names() | BUILT_IN | {r["record"] for r in _rules() if "record" in r}
    unknown: list[str] = []
    for where, expr in queries:
        names = metric_names(expr)
        # A query in which no name is found would pass unchecked.
        assert names, f"{where}: no metric name found in {expr!r}"
        unknown.extend(
            f"{where} reads {name}, which no service exports and no rule records"
            for name in sorted(names - known)
        )
    return unknown


def test_the_rules_read_only_exported_metrics() -> None:
    unknown = _unknown([(r.get("alert") or r["record"], r["expr"]) for r in _rules()])
    assert not unknown, "\n".join(unknown)


def test_the_dashboard_reads_only_exported_metrics() -> None:
    queries = list(_dashboard_queries())
    assert queries
    unknown = _unknown(queries)
    assert not unknown, "\n".join(unknown)


def test_the_exported_names_have_their_sample_suffixes() -> None:
    names = exported_names()
    assert {
        "boletos_emails_sent_total",
        "boletos_grpc_server_handling_seconds_bucket",
        "boletos_jetstream_consumer_lag_messages",
        "boletos_access_key_records_invalid_current",
    } <= names
    # A counter is read by its _total; the bare name is only its family's.
    assert "boletos_emails_sent" not in names


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (job, le) (rate(a_bucket{code=~"OK|x"}[5m] offset 1h)) / on (job) '
            "group_left b_total",
            {"a_bucket", "b_total"},
        ),
        ("histogram_quantile(0.99, sum by (le) (rate(c_bucket[$__rate_interval])))", {"c_bucket"}),
        (
            "rec:ratio:rate1h > (14.4 * 0.01) and rec:ratio:rate5m > 1e-3",
            {"rec:ratio:rate1h", "rec:ratio:rate5m"},
        ),
        ('absent(up{job="x"}) or vector(0)', {"up"}),
        ("label_values(d_messages, stream)", {"d_messages"}),
        ('max(e{stream=~"$stream"}) unless f', {"e", "f"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names
