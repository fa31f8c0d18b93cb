"""`helm lint --strict` on the chart, with its defaults and with the main production switches."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
import yaml

from tests.helm.chart import CHART, ROOT, helm

VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "external redis": {"redis": {"enabled": False, "url": "redis://redis.example:6379/0"}},
    "monitoring and autoscaling on": {
        "serviceMonitor": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "grafanaDashboards": {"enabled": True},
        "autoscaling": {"enabled": True},
    },
    "no worker, existing secret": {"worker": {"enabled": False}, "secrets": {"existingSecret": "gw-env"}},
}


@pytest.mark.parametrize("values", VARIANTS.values(), ids=VARIANTS.keys())
def test_lint_is_clean(values: dict[str, Any]) -> None:
    """Strict lint reports no warning or error (info-level hints such as "icon is recommended" aside)."""
    report = helm.lint(CHART, values, strict=True, namespace="genesis", kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["total_charts_linted"] == 1
    assert not problems, problems
    assert not report["errors"], report["errors"]


def test_app_version_is_the_package_version() -> None:
    """The image tag the chart defaults to is the version pyproject.toml builds."""
    chart_meta = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert chart_meta["apiVersion"] == "v2"
    assert chart_meta["appVersion"] == project["version"]
