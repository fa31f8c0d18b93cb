"""values.yaml: every value the templates read is defined there, and every top-level key is documented."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.helm.chart import CHART

VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
# Keys the templates look up by a computed name inside these maps (e.g. an upstream's api_key_env).
OPEN_MAPS = {("secrets", "values"), ("env",)}


def _template_paths() -> set[tuple[str, ...]]:
    paths: set[tuple[str, ...]] = set()
    for template in (CHART / "templates").iterdir():
        for match in VALUES_PATH.finditer(template.read_text(encoding="utf-8")):
            paths.add(tuple(match.group(1).lstrip(".").split(".")))
    return paths


def _defined(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for i, key in enumerate(path):
        if path[:i] in OPEN_MAPS:
            return True
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def test_every_value_the_templates_read_is_defined() -> None:
    """Each `.Values.a.b` path used by a template exists in values.yaml (a typo fails here, not in a cluster)."""
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    paths = _template_paths()
    assert ("redis", "url") in paths
    missing = sorted(".".join(p) for p in paths if not _defined(values, p))
    assert not missing, f"used by templates but not in values.yaml: {missing}"


def test_every_defined_value_is_used() -> None:
    """Each leaf of values.yaml is read by some template, so values.yaml documents no dead switch."""
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    used = _template_paths()

    def leaves(node: Any, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
        if isinstance(node, dict) and node and prefix not in OPEN_MAPS:
            return [leaf for k, v in node.items() for leaf in leaves(v, (*prefix, k))]
        return [prefix]

    unused = [".".join(p) for p in leaves(values, ()) if not any(p[: len(u)] == u for u in used)]
    assert not unused, f"in values.yaml but read by no template: {unused}"


def test_every_top_level_key_is_documented() -> None:
    """Every top-level key of values.yaml has a comment right above it or as its first child line."""
    lines = (CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*:", line):
            before = next((x for x in reversed(lines[:i]) if x.strip()), "")
            after = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not before.startswith("#") and not after.startswith("#"):
                undocumented.append(line.split(":")[0])
    assert not undocumented, undocumented
