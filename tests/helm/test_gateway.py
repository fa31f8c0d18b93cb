"""The gateway Deployment, its Service, ConfigMap and Secret as `helm template` renders them."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath

import pytest
from typer.main import get_command

from gateway.cli import app
from gateway.settings import parse_config
from tests.helm.chart import Rendered, container, env_of, helm, labels, render

CHECKSUMS = ("checksum/config", "checksum/secret")


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_serve_args_parse_with_the_real_cli(default: Rendered) -> None:
    """The container's args are a valid `genesis-gateway serve` command line, on all interfaces."""
    args = container(default.one("Deployment", "gateway"))["args"]
    assert args[0] == "serve"
    serve = get_command(app).commands["serve"]  # type: ignore[attr-defined]
    params = serve.make_context("serve", list(args[1:])).params
    assert params["host"] == "0.0.0.0"
    assert params["port"] == 8080
    assert params["workers"] == 1


def test_workers_per_pod_reaches_serve(chart: helm.Chart) -> None:
    """workersPerPod becomes `serve --workers`."""
    args = container(render(chart, {"workersPerPod": 4}).one("Deployment", "gateway"))["args"]
    assert _option(args, "--workers") == "4"


def test_probes_hit_health_endpoints_on_the_serving_port(default: Rendered) -> None:
    """Liveness and startup probe /healthz, readiness /readyz, on the port serve listens on."""
    gateway = container(default.one("Deployment", "gateway"))
    ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
    assert ports["http"] == int(_option(gateway["args"], "--port"))
    assert gateway["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert gateway["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_service_reaches_the_gateway_pods(default: Rendered) -> None:
    """The Service selects the gateway pods (and only them) and targets their http port."""
    service = default.one("Service", "gateway")
    deployment = default.one("Deployment", "gateway")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    assert selector.items() <= pod_labels.items()
    assert selector == deployment["spec"]["selector"]["matchLabels"]
    for other in default.all("Deployment"):
        if other is not deployment:
            assert not selector.items() <= other["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_pods_run_unprivileged_on_a_read_only_root(default: Rendered) -> None:
    """Every pod runs as a non-root uid with a read-only root, no privilege escalation, no capabilities."""
    for deployment in default.all("Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        ctr = container(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        assert ctr["securityContext"]["readOnlyRootFilesystem"] is True
        assert ctr["securityContext"]["allowPrivilegeEscalation"] is False
        assert ctr["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_tmp_is_writable_for_multiprocess_metrics(default: Rendered) -> None:
    """/tmp is an emptyDir: serve --workers N keeps its metrics directory there on a read-only root."""
    deployment = default.one("Deployment", "gateway")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]


def test_config_is_mounted_where_serve_reads_it(default: Rendered) -> None:
    """The ConfigMap's gateway.yaml is mounted at the path given to --config."""
    deployment = default.one("Deployment", "gateway")
    config_path = PurePosixPath(_option(container(deployment)["args"], "--config"))
    configmap = default.one("ConfigMap", "gateway")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mount = next(m for m in container(deployment)["volumeMounts"] if m["mountPath"] == str(config_path.parent))
    assert volumes[mount["name"]]["configMap"]["name"] == configmap["metadata"]["name"]
    assert config_path.name in configmap["data"]


def test_default_config_is_valid_for_the_gateway(default: Rendered) -> None:
    """The rendered gateway.yaml passes the gateway's own validation, with the five example agents."""
    text = default.one("ConfigMap", "gateway")["data"]["gateway.yaml"]
    config = parse_config(text, source="configmap", env={})
    assert set(config.agents) == {"support_agent", "legal_agent", "content_agent", "qa_agent", "analyst_agent"}
    assert config.upstreams["mistral"].api_key_env == "MISTRAL_API_KEY"


def test_config_is_rendered_verbatim(chart: helm.Chart) -> None:
    """A config string reaches the ConfigMap unchanged, ${VAR} references included."""
    text = "upstreams:\n  sim: {kind: simulated}\nagents: {}\nredis_url: ${REDIS:-redis://x}\n"
    assert render(chart, {"config": text}).one("ConfigMap", "gateway")["data"]["gateway.yaml"] == text


def _annotations(rendered: Rendered, component: str) -> dict[str, str]:
    return dict(rendered.one("Deployment", component)["spec"]["template"]["metadata"]["annotations"])


@pytest.mark.parametrize("component", ["gateway", "worker"])
def test_config_change_rolls_the_pods(chart: helm.Chart, default: Rendered, component: str) -> None:
    """checksum/config changes with the config, and only with it; checksum/secret with the secrets."""
    before = _annotations(default, component)
    assert set(CHECKSUMS) <= before.keys()
    unrelated = _annotations(render(chart, {"replicaCount": 5}), component)
    assert unrelated == before
    edited = _annotations(render(chart, {"config": "upstreams: {}\nagents: {}\n"}), component)
    assert edited["checksum/config"] != before["checksum/config"]
    assert edited["checksum/secret"] == before["checksum/secret"]
    keyed = _annotations(render(chart, {"secrets": {"values": {"MISTRAL_API_KEY": "k"}}}), component)
    assert keyed["checksum/secret"] != before["checksum/secret"]


def test_secret_holds_only_the_values_that_are_set(chart: helm.Chart) -> None:
    """Set secret values are base64-encoded into the Secret; empty ones are left out."""
    values = {"secrets": {"values": {"MISTRAL_API_KEY": "mk-1", "GATEWAY_ADMIN_TOKEN": "", "PLATFORM_KEY": "pk"}}}
    secret = render(chart, values).one("Secret", "gateway")
    data = {k: base64.b64decode(v).decode() for k, v in (secret["data"] or {}).items()}
    assert data == {"MISTRAL_API_KEY": "mk-1", "PLATFORM_KEY": "pk"}


@pytest.mark.parametrize("component", ["gateway", "worker"])
def test_environment_comes_from_the_secret(default: Rendered, component: str) -> None:
    """Gateway and worker take their secret environment from the chart's Secret."""
    env_from = container(default.one("Deployment", component))["envFrom"]
    assert env_from[0] == {"secretRef": {"name": default.one("Secret", "gateway")["metadata"]["name"]}}


def test_existing_secret_replaces_the_charts_own(chart: helm.Chart) -> None:
    """With secrets.existingSecret the chart renders no Secret, points envFrom at it, and drops checksum/secret."""
    rendered = render(chart, {"secrets": {"existingSecret": "gw-env", "values": {"MISTRAL_API_KEY": "x"}}})
    deployment = rendered.one("Deployment", "gateway")
    assert not rendered.all("Secret")
    assert container(deployment)["envFrom"][0] == {"secretRef": {"name": "gw-env"}}
    assert "checksum/secret" not in _annotations(rendered, "gateway")
    assert "checksum/config" in _annotations(rendered, "gateway")


def test_plain_env_and_logging(chart: helm.Chart) -> None:
    """`env` entries and the log settings reach the container as GATEWAY_* and plain variables."""
    env = env_of(render(chart, {"env": {"MISTRAL_BASE_URL": "http://vllm:8000"}}).one("Deployment", "gateway"))
    assert env["MISTRAL_BASE_URL"]["value"] == "http://vllm:8000"
    assert env["GATEWAY_LOG_FORMAT"]["value"] == "json"
    assert env["GATEWAY_LOG_LEVEL"]["value"] == "info"


def test_image_defaults_to_the_app_version(chart: helm.Chart, default: Rendered) -> None:
    """The image tag defaults to appVersion; a digest pins it instead."""
    assert container(default.one("Deployment", "gateway"))["image"] == f"genesis-gateway:{chart.metadata['appVersion']}"
    pinned = render(chart, {"image": {"repository": "r/gw", "digest": "sha256:" + "0" * 64}})
    assert container(pinned.one("Deployment", "worker"))["image"] == "r/gw@sha256:" + "0" * 64


def test_labels_follow_the_recommended_set(default: Rendered) -> None:
    """Every object carries the app.kubernetes.io labels of its release and component."""
    for manifest in default.manifests:
        found = labels(manifest)
        assert found["app.kubernetes.io/name"] == "genesis-gateway"
        assert found["app.kubernetes.io/instance"] == "gw"
        assert found["app.kubernetes.io/managed-by"] == "Helm"
        assert found["app.kubernetes.io/component"]
        assert manifest["metadata"]["namespace"] == "genesis"


def test_long_release_names_keep_names_valid_and_distinct(chart: helm.Chart) -> None:
    """With a 53-character release name every name fits 63 characters and no two objects of a kind collide."""
    rendered = render(chart, {"serviceMonitor": {"enabled": True}}, release="r" * 53)
    names = [(m["kind"], m["metadata"]["name"]) for m in rendered.manifests]
    assert all(len(name) <= 63 for _, name in names)
    assert len(names) == len(set(names))


def test_notes_warn_about_an_open_gateway_and_missing_keys(chart: helm.Chart, default: Rendered) -> None:
    """NOTES.txt warns when the config has no agent keys or an upstream key is unset, and not otherwise."""
    assert "no agent keys" in default.notes
    assert "MISTRAL_API_KEY" in default.notes
    config = (
        "upstreams:\n  m: {kind: mistral, base_url: 'http://m', api_key_env: MISTRAL_API_KEY}\n"
        "agents: {}\nauth:\n  keys:\n    - {name: p, key_env: PLATFORM_KEY}\n"
    )
    quiet = render(chart, {"config": config, "secrets": {"values": {"MISTRAL_API_KEY": "k", "PLATFORM_KEY": "p"}}})
    assert "WARNING" not in quiet.notes
