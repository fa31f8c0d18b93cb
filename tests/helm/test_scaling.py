"""Replica count, the HorizontalPodAutoscaler and the PodDisruptionBudget of the gateway."""

from __future__ import annotations

from tests.helm.chart import Rendered, helm, render


def test_fixed_replicas_without_autoscaling(default: Rendered) -> None:
    """With autoscaling off the Deployment has replicaCount replicas and no HPA exists."""
    assert default.one("Deployment", "gateway")["spec"]["replicas"] == 2
    assert not default.all("HorizontalPodAutoscaler")


def test_autoscaling_on_cpu_owns_the_replica_count(chart: helm.Chart) -> None:
    """The HPA targets the gateway Deployment on CPU, and the Deployment leaves replicas to it."""
    rendered = render(chart, {"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 7}})
    deployment = rendered.one("Deployment", "gateway")
    hpa = rendered.one("HorizontalPodAutoscaler", "gateway")
    assert "replicas" not in deployment["spec"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 7)
    assert hpa["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]


def test_autoscaling_can_add_memory(chart: helm.Chart) -> None:
    """A memory target adds a second resource metric."""
    values = {"autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80}}
    hpa = render(chart, values).one("HorizontalPodAutoscaler", "gateway")
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]


def test_pdb_covers_the_gateway_pods(default: Rendered) -> None:
    """The PDB selects exactly the gateway pods and allows one down at a time."""
    pdb = default.one("PodDisruptionBudget", "gateway")
    deployment = default.one("Deployment", "gateway")
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert "minAvailable" not in pdb["spec"]


def test_pdb_min_available_replaces_max_unavailable(chart: helm.Chart) -> None:
    """podDisruptionBudget.minAvailable, when set, is used instead of maxUnavailable."""
    pdb = render(chart, {"podDisruptionBudget": {"minAvailable": "50%"}}).one("PodDisruptionBudget", "gateway")
    assert pdb["spec"]["minAvailable"] == "50%"
    assert "maxUnavailable" not in pdb["spec"]


def test_pdb_can_be_turned_off(chart: helm.Chart) -> None:
    """podDisruptionBudget.enabled=false renders none."""
    assert not render(chart, {"podDisruptionBudget": {"enabled": False}}).all("PodDisruptionBudget")
