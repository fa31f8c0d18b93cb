"""Render the Helm chart offline with Helm's own engine and look things up in the manifests.

The engine is the Helm Go SDK (v4) that the ``helm-python-sdk`` wheel bundles: the same template
functions, ``.Files`` and lint rules as the ``helm`` binary, with no binary, cluster or network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:
    import helm_python as helm
except ModuleNotFoundError as exc:  # say how to get it rather than only what is missing
    raise ModuleNotFoundError(
        "the chart tests need helm-python-sdk (Helm's engine): `make test` installs it, "
        "or `.venv/bin/pip install helm-python-sdk==0.2.2`"
    ) from exc

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "genesis-gateway"
RELEASE = "gw"
NAMESPACE = "genesis"

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """One `helm template`: the manifests, and NOTES.txt."""

    manifests: tuple[Manifest, ...]
    notes: str

    def all(self, kind: str) -> list[Manifest]:
        """Every manifest of a kind."""
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, component: str) -> Manifest:
        """The single manifest of a kind for a component (gateway, worker, redis, monitoring)."""
        found = [m for m in self.all(kind) if labels(m).get("app.kubernetes.io/component") == component]
        assert len(found) == 1, f"expected one {kind} for {component}, found {len(found)}"
        return found[0]

    def named(self, kind: str, name: str) -> Manifest:
        """The manifest of a kind with a name."""
        found = [m for m in self.all(kind) if m["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} named {name}, found {len(found)}"
        return found[0]

    def has(self, kind: str, component: str) -> bool:
        """Whether any manifest of a kind exists for a component."""
        return any(labels(m).get("app.kubernetes.io/component") == component for m in self.all(kind))


def labels(manifest: Manifest) -> dict[str, str]:
    """The metadata labels of a manifest."""
    return dict(manifest["metadata"].get("labels") or {})


def container(deployment: Manifest) -> Manifest:
    """The one container of a Deployment's pod."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env_of(deployment: Manifest) -> dict[str, Manifest]:
    """The container's env entries by name."""
    return {e["name"]: e for e in container(deployment).get("env", [])}


def render(chart: helm.Chart, values: dict[str, Any] | None = None, *, release: str = RELEASE) -> Rendered:
    """Render the chart as `helm template` would and parse every manifest."""
    out = chart.render(values or {}, name=release, namespace=NAMESPACE, is_install=True)
    notes = ""
    docs: list[Manifest] = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return Rendered(tuple(docs), notes)
