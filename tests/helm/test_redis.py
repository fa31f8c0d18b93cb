"""Redis wiring: the bundled Redis, an external URL, a URL in a Secret, and no Redis at all."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.helm.chart import Rendered, container, env_of, helm, render

COMPONENTS = ("gateway", "worker")


@pytest.mark.parametrize("component", COMPONENTS)
def test_bundled_redis_url_points_at_its_service(default: Rendered, component: str) -> None:
    """GATEWAY_REDIS_URL names the bundled Redis Service and its port."""
    url = urlsplit(env_of(default.one("Deployment", component))["GATEWAY_REDIS_URL"]["value"])
    service = default.one("Service", "redis")
    assert url.scheme == "redis"
    assert url.hostname == service["metadata"]["name"]
    assert url.port == service["spec"]["ports"][0]["port"]


def test_bundled_redis_is_served_by_its_service(default: Rendered) -> None:
    """The Redis Service selects the Redis pod, targets its port, and Redis keeps nothing on disk."""
    service = default.one("Service", "redis")
    deployment = default.one("Deployment", "redis")
    redis = container(deployment)
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in redis["ports"]}
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    args = redis["args"]
    assert args[args.index("--save") + 1] == ""
    assert args[args.index("--appendonly") + 1] == "no"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"


@pytest.mark.parametrize("component", COMPONENTS)
def test_external_redis_url(chart: helm.Chart, component: str) -> None:
    """redis.enabled=false with a URL: no bundled Redis, and the URL reaches the pods as is."""
    url = "rediss://redis.prod.internal:6380/2"
    rendered = render(chart, {"redis": {"enabled": False, "url": url}})
    assert not rendered.has("Deployment", "redis")
    assert not rendered.has("Service", "redis")
    assert env_of(rendered.one("Deployment", component))["GATEWAY_REDIS_URL"] == {
        "name": "GATEWAY_REDIS_URL",
        "value": url,
    }


def test_external_redis_url_from_a_secret(chart: helm.Chart) -> None:
    """redis.existingSecret wires GATEWAY_REDIS_URL through a secretKeyRef (URLs with passwords)."""
    rendered = render(chart, {"redis": {"enabled": False, "existingSecret": "redis-cred", "existingSecretKey": "url"}})
    entry = env_of(rendered.one("Deployment", "gateway"))["GATEWAY_REDIS_URL"]
    assert entry["valueFrom"] == {"secretKeyRef": {"name": "redis-cred", "key": "url"}}


def test_no_redis_at_all_is_refused(chart: helm.Chart) -> None:
    """Without a bundled or external Redis the chart fails to render, naming the values to set."""
    with pytest.raises(helm.HelmRenderError, match=r"redis\.enabled=true"):
        render(chart, {"redis": {"enabled": False}})
