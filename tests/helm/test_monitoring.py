"""Prometheus Operator objects and the Grafana dashboards ConfigMap.

The chart reads the rules and dashboards through two symlinks, files/prometheus -> dashboards/prometheus
and files/grafana -> dashboards/grafana. They are tested two ways: on a copy of the chart holding small
files made here (so the templating is tested whatever dashboards/ holds), and on the repository's chart
against the repository's files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helm.chart import CHART, ROOT, Rendered, helm, labels, render

RULES: dict[str, Any] = {
    "groups": [
        {
            "name": "genesis-gateway.recording",
            "rules": [
                {"record": "agent:genesis_requests:rate5m", "expr": "sum by (agent) (rate(genesis_requests_total[5m]))"}
            ],
        },
        {
            "name": "genesis-gateway.alerts",
            "rules": [
                {
                    "alert": "GenesisUpstreamErrors",
                    "expr": "sum by (agent) (rate(genesis_requests_total{status_class='5xx'}[5m])) > 0.05",
                    "for": "10m",
                    "labels": {"severity": "page"},
                    "annotations": {"summary": "{{ $labels.agent }}: {{ $value | humanizePercentage }} errors"},
                }
            ],
        },
    ]
}
PROMTOOL_TEST: dict[str, Any] = {"rule_files": ["rules.yml"], "tests": [{"interval": "1m", "input_series": []}]}
DASHBOARD: dict[str, Any] = {
    "title": "Genesis Gateway",
    "uid": "genesis-gateway",
    "panels": [
        {"type": "timeseries", "targets": [{"expr": "agent:genesis_requests:rate5m", "legendFormat": "{{agent}}"}]}
    ],
}


def _bare_copy(root: Path) -> Path:
    """Copy the chart to ``root`` without the rule and dashboard files it holds."""

    def skip_synced(folder: str, names: list[str]) -> list[str]:
        return names if Path(folder).parent.name == "files" else []

    shutil.copytree(CHART, root, ignore=skip_synced)
    for sub in ("prometheus", "grafana"):
        (root / "files" / sub).mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def filled_chart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[helm.Chart]:
    """A copy of the chart whose files/ holds one rules file, one promtool test file and one dashboard."""
    root = _bare_copy(tmp_path_factory.mktemp("chart") / "genesis-gateway")
    (root / "files/prometheus/rules.yml").write_text(yaml.safe_dump(RULES, sort_keys=False), encoding="utf-8")
    (root / "files/prometheus/rules_test.yml").write_text(yaml.safe_dump(PROMTOOL_TEST), encoding="utf-8")
    (root / "files/grafana/genesis-gateway.json").write_text(json.dumps(DASHBOARD, indent=2), encoding="utf-8")
    with helm.Chart.load(root) as loaded:
        yield loaded


MONITORING_ON = {"prometheusRule": {"enabled": True}, "grafanaDashboards": {"enabled": True}}


def test_monitoring_objects_are_off_by_default(default: Rendered) -> None:
    """Without the Prometheus Operator switches no CRD objects or dashboards are rendered."""
    kinds = {m["kind"] for m in default.manifests}
    assert not kinds & {"ServiceMonitor", "PrometheusRule"}
    assert not any(labels(m).get("grafana_dashboard") for m in default.manifests)


def test_service_monitors_scrape_the_metrics_ports(default: Rendered, chart: helm.Chart) -> None:
    """Each ServiceMonitor selects exactly one Service and scrapes /metrics on a port that Service names."""
    rendered = render(chart, {"serviceMonitor": {"enabled": True, "labels": {"release": "kps"}}})
    monitors = rendered.all("ServiceMonitor")
    assert {labels(m)["app.kubernetes.io/component"] for m in monitors} == {"gateway", "worker"}
    for monitor in monitors:
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert labels(monitor)["release"] == "kps"
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [s for s in rendered.all("Service") if selector.items() <= labels(s).items()]
        assert len(services) == 1
        port_names = {p["name"] for p in services[0]["spec"]["ports"]}
        [endpoint] = monitor["spec"]["endpoints"]
        assert endpoint["port"] in port_names
        assert endpoint["path"] == "/metrics"
        assert endpoint["interval"] == "30s"
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["genesis"]}


def test_prometheus_rule_carries_the_rule_files_untouched(filled_chart: helm.Chart) -> None:
    """The PrometheusRule holds every group of the rules files as written, alert templates included."""
    rendered = render(filled_chart, {"prometheusRule": {"enabled": True, "labels": {"release": "kps"}}})
    rule = rendered.one("PrometheusRule", "monitoring")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert labels(rule)["release"] == "kps"
    assert rule["spec"]["groups"] == RULES["groups"]


def test_prometheus_rule_appends_extra_groups(filled_chart: helm.Chart) -> None:
    """prometheusRule.extraGroups come after the shipped groups."""
    extra = {"name": "site", "rules": [{"alert": "Mine", "expr": "vector(1)"}]}
    rendered = render(filled_chart, {"prometheusRule": {"enabled": True, "extraGroups": [extra]}})
    groups = rendered.one("PrometheusRule", "monitoring")["spec"]["groups"]
    assert [g["name"] for g in groups] == [*(g["name"] for g in RULES["groups"]), "site"]


def test_dashboards_configmap_for_the_grafana_sidecar(filled_chart: helm.Chart) -> None:
    """The dashboards ConfigMap carries the sidecar label and each JSON file unchanged, under its file name."""
    values = {"grafanaDashboards": {"enabled": True, "annotations": {"grafana_folder": "Genesis"}}}
    configmap = render(filled_chart, values).one("ConfigMap", "monitoring")
    assert labels(configmap)["grafana_dashboard"] == "1"
    assert configmap["metadata"]["annotations"] == {"grafana_folder": "Genesis"}
    assert json.loads(configmap["data"]["genesis-gateway.json"]) == DASHBOARD


def test_enabled_without_files_is_refused(tmp_path: Path) -> None:
    """Turning rules or dashboards on in a chart without the files fails and says how to sync them."""
    with helm.Chart.load(_bare_copy(tmp_path / "genesis-gateway")) as empty:
        for values in ({"prometheusRule": {"enabled": True}}, {"grafanaDashboards": {"enabled": True}}):
            with pytest.raises(helm.HelmRenderError, match="symlink"):
                render(empty, values)


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
def test_chart_files_link_to_the_dashboards_folder(name: str) -> None:
    """files/<name> is a relative symlink to dashboards/<name>, so the chart never carries stale copies."""
    link = CHART / "files" / name
    assert link.is_symlink()
    assert not Path(link.readlink()).is_absolute()
    assert link.resolve() == (ROOT / "dashboards" / name).resolve()


def _source_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in sorted((ROOT / "dashboards/prometheus").glob("*.y*ml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "groups" in doc:
            groups += doc["groups"]
    return groups


def test_repository_rules_reach_the_prometheus_rule(chart: helm.Chart) -> None:
    """The repository chart's PrometheusRule holds every group of dashboards/prometheus/*.yml, unchanged."""
    sources = _source_groups()
    assert sources, "dashboards/prometheus holds no rules file"
    rule = render(chart, MONITORING_ON).one("PrometheusRule", "monitoring")
    assert rule["spec"]["groups"] == sources


def test_rendered_rules_pass_promtool(chart: helm.Chart, tmp_path: Path) -> None:
    """The groups as Helm renders them are valid Prometheus rules (`promtool check rules`)."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make test` installs it (scripts/ensure-services.sh)"
    rule = render(chart, MONITORING_ON).one("PrometheusRule", "monitoring")
    rules_file = tmp_path / "rendered.yml"
    rules_file.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    checked = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_repository_dashboards_reach_the_configmap(chart: helm.Chart) -> None:
    """The repository chart's dashboards ConfigMap holds every dashboards/grafana/*.json, within the 1 MiB limit."""
    sources = sorted((ROOT / "dashboards/grafana").glob("*.json"))
    assert sources, "dashboards/grafana holds no dashboard"
    configmap = render(chart, MONITORING_ON).one("ConfigMap", "monitoring")
    assert sorted(configmap["data"]) == [p.name for p in sources]
    for path in sources:
        assert json.loads(configmap["data"][path.name]) == json.loads(path.read_text(encoding="utf-8"))
    assert sum(len(v.encode()) for v in configmap["data"].values()) < 1024 * 1024
