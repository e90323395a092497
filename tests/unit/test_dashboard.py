"""The Grafana dashboard of deploy/grafana imports anywhere: every query goes to the data
source chosen at import (or in its variable), panels have unique ids and do not overlap, and
it shows each stage of the pipeline and the service levels.
(test_metric_names.py checks the metrics its queries read.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "boletos.json"
PROVISIONING = GRAFANA / "provisioning"
SOURCE = "${DS_PROMETHEUS}"


def _dashboard() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        # A collapsed row keeps its panels inside it.
        yield from _panels(panel.get("panels", []))


def test_the_data_source_is_chosen_at_import_or_in_a_variable() -> None:
    dashboard = _dashboard()
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    used = [v for v in variables.values() if "datasource" in v] + [
        p for p in _panels(dashboard["panels"]) if p["type"] != "row"
    ]
    for item in used:
        assert item["datasource"] == {"type": "prometheus", "uid": SOURCE}, item.get("title")
        for target in item.get("targets", []):
            assert target["datasource"]["uid"] == SOURCE, item["title"]
            assert target["expr"].strip(), item["title"]


def test_schema_ids_and_layout() -> None:
    dashboard = _dashboard()
    assert dashboard["schemaVersion"] >= 39
    assert dashboard["uid"] and dashboard["title"]
    panels = list(_panels(dashboard["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    taken: dict[tuple[int, int], str] = {}
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_it_shows_every_stage_and_the_service_levels() -> None:
    queries = "\n".join(
        t["expr"] for p in _panels(_dashboard()["panels"]) for t in p.get("targets", [])
    )
    for needed in [
        "boletos_ingest_rows_total",
        "boletos_boletos_issued_total",
        "boletos_boletos_failed_total",
        "boletos_emails_sent_total",
        "boletos_emails_failed_total",
        "boletos_emails_uncertain_total",
        "boletos_jetstream_consumer_lag_messages",
        "boletos_outbox_publish_failures_total",
        "histogram_quantile(0.99, sum by (service, method, le) "
        "(rate(boletos_grpc_server_handling_seconds_bucket",
        "boletos_retorno_paid_cents_total",
        "boletos_retorno_problems_total",
        "boletos:email_delivery:error_ratio_rate1h",
        "boletos:upload_availability:error_ratio_rate1h",
        "boletos:read_latency:error_ratio_rate1h",
    ]:
        assert needed in queries, needed


def test_provisioning_loads_the_dashboard_from_where_the_readme_mounts_it() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    assert [(d["type"], d["isDefault"]) for d in sources["datasources"]] == [("prometheus", True)]
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "boletos.yml").read_text())
    [provider] = providers["providers"]
    mount = f"./deploy/grafana/boletos.json:{provider['options']['path']}/boletos.json:ro"
    assert mount in (GRAFANA / "README.md").read_text()
