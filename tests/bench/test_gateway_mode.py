"""`bench --gateway URL`: the benchmark through a real gateway on a loopback port, with the real mistralai SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.bench import BenchOptions, ForceRefused, GatewayCaller, PriceBook, run_benchmark
from gateway.cli import app
from gateway.demo import demo_config
from scoring.suites import load_suite
from tests.bench.conftest import ServedGateway
from tests.support.servers import ROOT

EXAMPLE_CONFIG = ROOT / "gateway" / "examples" / "gateway.yaml"


def test_bench_through_the_gateway_forces_each_variant(demo_gateway: ServedGateway, tmp_path: Path) -> None:
    """Every case reaches the gateway once per variant, forced by header, and the answers come back scored."""
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["bench", "--gateway", demo_gateway.url, "--agent", "qa_agent", "--out", str(out), "--no-progress",
         "--cache", str(tmp_path / "cache"), "--threshold", "5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    registry = demo_gateway.registry
    for variant in ("candidate", "baseline"):
        forced = registry.get_sample_value(
            "genesis_assignments_total", {"agent": "qa_agent", "variant": variant, "reason": "forced"}
        )
        assert forced == 10
    report = json.loads((out / "report.json").read_text())
    assert report["mode"] == "gateway" and report["source"] == demo_gateway.url
    runs = [run for case in report["cases"] for run in case["variants"].values()]
    assert len(runs) == 20 and all(r["score"] is not None for r in runs)
    served = {r["target"]: r["answer"]["model"] for r in runs}
    qa = demo_config().agents["qa_agent"]
    assert served == {"candidate": qa.candidate.model, "baseline": qa.baseline.model}


@pytest.mark.parametrize("with_config", [False, True])
def test_gateway_mode_takes_prices_only_from_config(
    demo_gateway: ServedGateway, tmp_path: Path, with_config: bool
) -> None:
    """With --gateway the cost is unknown (None) unless --config supplies the price table."""
    out = tmp_path / "out"
    config = ["--config", str(EXAMPLE_CONFIG)] if with_config else []
    result = CliRunner().invoke(
        app,
        ["bench", "--gateway", demo_gateway.url, "--agent", "legal_agent", "--out", str(out), "--no-progress",
         "--no-cache", "--threshold", "5", *config],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    overall = json.loads((out / "report.json").read_text())["overall"]
    if with_config:
        assert overall["candidate"]["cost_usd"] > overall["baseline"]["cost_usd"] > 0
    else:
        assert overall["candidate"]["cost_usd"] is None
    assert overall["candidate"]["overall"] > overall["baseline"]["overall"]


async def test_gateway_refusing_to_force_stops_the_run(locked_gateway: ServedGateway, tmp_path: Path) -> None:
    """A 403 on the force-variant header stops the run with advice to set allow_force_variant."""
    caller = GatewayCaller(locked_gateway.url, api_key="any", timeout_s=10)
    options = BenchOptions(agents=("support_agent",), cache_dir=None)
    with pytest.raises(ForceRefused, match="allow_force_variant"):
        await run_benchmark(
            load_suite("genesis-agents"), caller, PriceBook(None), options, mode="gateway", source="test"
        )


def test_cli_reports_403_as_error_exit_4(locked_gateway: ServedGateway, tmp_path: Path) -> None:
    """Through the CLI, the refused forcing is exit status 4 with the gateway's reason in the message."""
    result = CliRunner().invoke(
        app,
        ["bench", "--gateway", locked_gateway.url, "--agent", "support_agent", "--out", str(tmp_path / "out"),
         "--no-progress", "--no-cache"],
    )  # fmt: skip
    assert result.exit_code == 4
    assert "403" in result.output and "allow_force_variant" in result.output


def test_unknown_agent_on_the_gateway_is_a_setup_error(demo_gateway: ServedGateway, tmp_path: Path) -> None:
    """A suite agent the gateway does not serve fails before any case runs (exit 4), naming the agent."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: tiny\ncases:\n- id: one\n  agent: ghost_agent\n  messages: [{role: user, content: hi}]\n"
        "  must_contain: a greeting\n"
    )
    result = CliRunner().invoke(
        app, ["bench", str(suite), "--gateway", demo_gateway.url, "--out", str(tmp_path / "out"), "--no-progress"]
    )
    assert result.exit_code == 4
    assert "ghost_agent" in result.output
