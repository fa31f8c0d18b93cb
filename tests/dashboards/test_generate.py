"""The dashboard generator: its output is what is committed, and the dashboards carry what ops need."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dashboards.generate import DASHBOARDS, GRAFANA_DIR, main

QUALITY_MEAN = "agent_variant_dimension:genesis_quality_score:mean30m"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((GRAFANA_DIR / name).read_text(encoding="utf-8")))


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_committed_json_is_what_the_generator_writes(tmp_path: Path) -> None:
    """python -m dashboards.generate --out DIR writes exactly the committed files (no drift)."""
    assert main(["--out", str(tmp_path)]) == 0
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in GRAFANA_DIR.glob("*.json")}
    assert sorted(written) == sorted(committed) == sorted(DASHBOARDS)
    stale = [name for name in written if written[name] != committed[name]]
    assert not stale, f"regenerate with `python -m dashboards.generate`: {stale} differ from the generator"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_dashboard_has_datasource_agent_and_variant_variables(name: str) -> None:
    """Each dashboard offers a Prometheus data source and multi-select agent and variant variables."""
    board = _load(name)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for var in ("agent", "variant"):
        assert variables[var]["type"] == "query"
        assert variables[var]["multi"] and variables[var]["includeAll"]
        assert variables[var]["allValue"] == ".*"
    for panel in _panels(board):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_is_described_with_a_unit_and_unique_id(name: str) -> None:
    """Panels have a title, a description, a unit (tables excepted) and ids unique in the dashboard."""
    board = _load(name)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert board["uid"].startswith("genesis-")
    for panel in _panels(board):
        assert panel["title"] and panel["description"], panel
        assert panel["targets"], panel["title"]
        if panel["type"] != "table":
            assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]


def test_score_panels_draw_the_8_line() -> None:
    """Every panel showing mean scores draws a threshold at 8.0 on a 0-10 axis."""
    score_panels = [p for p in _panels(_load("quality.json")) if QUALITY_MEAN in p["targets"][0]["expr"]]
    assert len(score_panels) == 5
    for panel in score_panels:
        defaults = panel["fieldConfig"]["defaults"]
        assert 8.0 in [step["value"] for step in defaults["thresholds"]["steps"]], panel["title"]
        assert defaults["custom"]["thresholdsStyle"]["mode"] != "off"
        assert (defaults["min"], defaults["max"]) == (0.0, 10.0)


def test_specificity_has_its_own_panel_with_the_floor() -> None:
    """One panel shows only specificity, with each agent's floor beside it."""
    [panel] = [p for p in _panels(_load("quality.json")) if "Specificity" in p["title"]]
    exprs = [t["expr"] for t in panel["targets"]]
    assert 'dimension="specificity"' in exprs[0]
    assert not any('dimension="overall"' in e for e in exprs)
    assert any("agent:genesis_specificity_floor:threshold" in e for e in exprs)


def test_overview_covers_what_ops_watch() -> None:
    """The overview reads traffic, errors, latency, TTFT, tokens, cost, fallbacks, share, overhead, background errors."""
    exprs = " ".join(t["expr"] for p in _panels(_load("gateway-overview.json")) for t in p["targets"])
    for name in (
        "genesis_requests",
        "genesis_request_errors",
        "genesis_request_duration_seconds",
        "genesis_time_to_first_token_seconds",
        "genesis_tokens",
        "genesis_cost_usd",
        "genesis_fallbacks_total",
        "genesis_candidate_share_percent",
        "genesis_gateway_overhead_seconds",
        "genesis_background_errors_total",
    ):
        assert name in exprs, name


def test_experiments_cover_difference_verdict_srm_and_rollout() -> None:
    """The experiments dashboard reads the A/B difference and interval, verdict, SRM and rollout."""
    exprs = " ".join(t["expr"] for p in _panels(_load("experiments.json")) for t in p["targets"])
    for name in (
        "genesis_ab_difference",
        "genesis_ab_ci_lower",
        "genesis_ab_ci_upper",
        "genesis_ab_verdict",
        "genesis_srm_p_value",
        "genesis_srm_detected",
        "genesis_rollout_step",
        "genesis_rollout_target_share_percent",
    ):
        assert name in exprs, name
