"""The scoring-worker Deployment and its metrics Service."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from typer.main import get_command

from gateway.cli import app
from tests.helm.chart import Rendered, container, helm, render


def test_worker_runs_the_worker_command_on_the_shared_config(default: Rendered) -> None:
    """Workers run `worker --config <the mounted file> --metrics-port <their metrics port>`."""
    worker = container(default.one("Deployment", "worker"))
    gateway = container(default.one("Deployment", "gateway"))
    args = worker["args"]
    assert args[0] == "worker"
    assert args[args.index("--config") + 1] == gateway["args"][gateway["args"].index("--config") + 1]
    ports = {p["name"]: p["containerPort"] for p in worker["ports"]}
    assert args[args.index("--metrics-port") + 1] == str(ports["metrics"]) == "9464"
    config_dir = str(PurePosixPath(args[args.index("--config") + 1]).parent)
    assert config_dir in {m["mountPath"] for m in worker["volumeMounts"]}


def test_worker_args_parse_with_the_real_cli(default: Rendered) -> None:
    """The worker container's args are a valid `genesis-gateway worker` command line."""
    commands = get_command(app).commands  # type: ignore[attr-defined]
    if "worker" not in commands:
        pytest.skip("the worker command is not registered yet")
    args = container(default.one("Deployment", "worker"))["args"]
    params = commands["worker"].make_context("worker", list(args[1:])).params
    assert str(params["config"]) == args[args.index("--config") + 1]
    assert params["metrics_port"] == 9464


def test_worker_replicas_and_resources(chart: helm.Chart) -> None:
    """worker.replicas and worker.resources reach the worker Deployment, not the gateway's."""
    values = {"worker": {"replicas": 3, "resources": {"limits": {"cpu": "2"}}}}
    rendered = render(chart, values)
    worker = rendered.one("Deployment", "worker")
    assert worker["spec"]["replicas"] == 3
    assert container(worker)["resources"]["limits"]["cpu"] == "2"
    assert container(rendered.one("Deployment", "gateway"))["resources"]["limits"]["cpu"] == "1"


def test_worker_metrics_service_selects_the_workers(default: Rendered) -> None:
    """A headless Service exposes the workers' metrics port, for the worker ServiceMonitor."""
    service = default.one("Service", "worker")
    pod_labels = default.one("Deployment", "worker")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"


def test_worker_can_be_turned_off(chart: helm.Chart) -> None:
    """worker.enabled=false renders no worker Deployment, Service or ServiceMonitor."""
    rendered = render(chart, {"worker": {"enabled": False}, "serviceMonitor": {"enabled": True}})
    assert not rendered.has("Deployment", "worker")
    assert not rendered.has("Service", "worker")
    assert not rendered.has("ServiceMonitor", "worker")
    assert rendered.has("ServiceMonitor", "gateway")
