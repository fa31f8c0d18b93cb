"""What the committed dashboards and rules query: every panel target, recording rule and alert, typed.

The tests use it to prove each query against a real Prometheus and to check names across files;
ops can use it to list what a dashboard depends on (``python -m dashboards.inventory``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

ROOT = Path(__file__).resolve().parent
GRAFANA_DIR = ROOT / "grafana"
RECORDING_RULES = ROOT / "prometheus" / "recording.yml"
ALERT_RULES = ROOT / "prometheus" / "alerts.yml"

_METRIC = re.compile(r"\b(genesis_[a-z0-9_]+|[a-z_]+:genesis_[a-z0-9_]+:[a-z0-9_]+)\b")
_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel of a committed dashboard."""

    dashboard: str
    panel: str
    ref_id: str
    expr: str

    @property
    def where(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


class Rule(BaseModel):
    """One recording or alerting rule as Prometheus reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record: str | None = None
    alert: str | None = None
    expr: str
    for_: str | None = Field(default=None, alias="for")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self.record or self.alert or ""


class RuleGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    interval: str | None = None
    rules: list[Rule]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: list[RuleGroup]


def load_rules(path: Path) -> list[Rule]:
    """Every rule of a Prometheus rule file, in file order."""
    parsed = RuleFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return [rule for group in parsed.groups for rule in group.rules]


class _Target(BaseModel):
    ref_id: str = Field(alias="refId")
    expr: str


class _Panel(BaseModel):
    title: str = ""
    targets: list[_Target] | None = None
    panels: list[_Panel] | None = None
    """A collapsed row's panels."""


class _Board(BaseModel):
    panels: list[_Panel] = []


def panel_queries(grafana_dir: Path = GRAFANA_DIR) -> list[PanelQuery]:
    """Every target expression of every panel (rows included) of the committed dashboards."""
    found: list[PanelQuery] = []
    for path in sorted(grafana_dir.glob("*.json")):
        board = _Board.model_validate_json(path.read_text(encoding="utf-8"))
        for panel in _panels(board.panels):
            found += [PanelQuery(path.name, panel.title, t.ref_id, t.expr) for t in panel.targets or []]
    return found


def _panels(panels: list[_Panel]) -> Iterator[_Panel]:
    for panel in panels:
        yield panel
        yield from _panels(panel.panels or [])


def metric_names(expr: str) -> set[str]:
    """The metric and recording-rule names an expression reads (``genesis_*`` and ``level:genesis_*:op``)."""
    return set(_METRIC.findall(expr))


def family(name: str, known: set[str]) -> str:
    """The exported family a series name belongs to (``x_bucket`` → ``x`` when ``x`` is known)."""
    for suffix in _HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) in known:
            return name.removesuffix(suffix)
    return name


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """``expr`` with Grafana variables (``$agent``, ``${agent}``, ``$__rate_interval``) replaced.

    Raises ``KeyError`` naming a variable without a value, so no query reaches Prometheus half-filled.
    """

    def replace(match: re.Match[str]) -> str:
        return values[match.group(1) or match.group(2)]

    return _VARIABLE.sub(replace, expr)


def main() -> int:
    for query in panel_queries():
        print(f"{query.where}: {query.expr}")
    for path in (RECORDING_RULES, ALERT_RULES):
        for rule in load_rules(path):
            print(f"{path.name} / {rule.name}: {' '.join(rule.expr.split())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
