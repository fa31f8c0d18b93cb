"""``genesis-gateway bench``: run a benchmark suite against candidate and baseline and gate on the result.

This module turns options into typed ``BenchOptions`` and a ``ModelCaller``, draws the progress
bar, prints the summary and exits with the gate's status; the work is in ``gateway.bench``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gateway.bench import (
    BenchError,
    BenchOptions,
    BenchReport,
    GatewayCaller,
    ModelCaller,
    PriceBook,
    RetryPolicy,
    RoiInputs,
    UpstreamCaller,
    run_benchmark,
    write_reports,
)
from gateway.bench.model import Run
from gateway.bench.run import Mode, select_cases
from gateway.cli.console import cli_console
from gateway.demo import demo_config
from gateway.settings import ConfigError, GatewayConfig, load_config
from gateway.upstream.factory import build_upstreams
from scoring.composite import ScoringConfig
from scoring.suites import Suite, SuiteError, load_suite

EXIT_ERROR = 4

BENCH_HELP = (
    "Run a benchmark SUITE (default: the packaged genesis-agents) against each agent's candidate and baseline, "
    "score every answer, and write report.md, report.json and report.html into --out.\n\n"
    "Answers come from the built-in simulator when neither --config nor --gateway is given, from the config's "
    "upstreams with --config, or through a running gateway with --gateway (the mistralai SDK, forcing each variant "
    "with X-Genesis-Variant, which the agent's allow_force_variant must permit; --config then only supplies the "
    "prices and scoring settings). Answers are scored with the config's scoring.scorers, as the online worker does."
    "\n\nExit status:\n\n"
    "0  every agent passes: its candidate averages at or above --threshold and is not significantly worse than its "
    "baseline\n\n"
    "3  an agent is below the threshold, or significantly worse than its baseline\n\n"
    "4  errors: bad config or suite, unreachable gateway, 403 on forcing a variant, or cases left without an answer "
    "after the retries (the gate is not decided)\n\n"
    "2  bad command-line usage"
)


class _RichProgress:
    """The progress bar: one tick per answered (or failed) case × target."""

    def __init__(self, progress: Progress, total: int) -> None:
        self._progress = progress
        self._task = progress.add_task("benchmark", total=total)
        self._errors = 0
        self._cached = 0

    def advance(self, run: Run) -> None:
        self._errors += run.error is not None
        self._cached += run.cached
        note = f"benchmark · {self._cached} cached" + (f" · {self._errors} errors" if self._errors else "")
        self._progress.update(self._task, advance=1, description=note)


def bench(
    suite: Annotated[str, typer.Argument(help="A packaged suite name or a suite YAML file.")] = "genesis-agents",
    *,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Gateway YAML config: its upstreams, agents and prices.")
    ] = None,
    gateway: Annotated[
        str | None, typer.Option("--gateway", help="Base URL of a running gateway (no /v1) to benchmark through.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the three reports.")] = Path("bench-report"),
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=10.0, help="Pass threshold (0–10); default: the config's scoring.scorers.threshold, else 8.0."
        ),
    ] = None,
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            help="Targets instead of candidate,baseline: 'candidate', 'baseline' or model ids, comma-separated or "
            "repeated. The first is tested, the second is its reference.",
        ),
    ] = None,
    agents: Annotated[list[str] | None, typer.Option("--agent", help="Only this agent's cases (repeatable).")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=512, help="Calls in flight at once.")] = 16,
    retries: Annotated[int, typer.Option(min=0, max=10, help="Extra attempts on transient errors.")] = 3,
    backoff: Annotated[float, typer.Option(min=0.0, help="Seconds before the first retry; doubles each time.")] = 0.5,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for one answer.")] = 120.0,
    cache: Annotated[Path, typer.Option("--cache", help="Answer cache directory (resumable).")] = Path(
        ".genesis-cache"
    ),
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the answer cache.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap intervals and retry jitter.")] = 0,
    finetune_cost: Annotated[
        float | None, typer.Option("--finetune-cost", min=0.0, help="USD spent on fine-tuning, for the ROI section.")
    ] = None,
    monthly_requests: Annotated[
        int, typer.Option("--monthly-requests", min=0, help="Requests a month across all agents, for the ROI.")
    ] = 100_000,
    roi_months: Annotated[int, typer.Option("--roi-months", min=1, help="ROI horizon in months.")] = 12,
    value_per_pass: Annotated[
        float | None, typer.Option("--value-per-pass", min=0.0, help="USD one more passing answer is worth (ROI).")
    ] = None,
    api_key: Annotated[
        str, typer.Option("--api-key", envvar="GENESIS_API_KEY", help="Agent key for --gateway.")
    ] = "genesis-bench",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Draw the progress bar.")] = True,
) -> None:
    err = cli_console(stderr=True)
    try:
        loaded = load_suite(suite)
        gateway_config = load_config(config) if config is not None else None
    except (SuiteError, ConfigError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    options = BenchOptions(
        targets=_targets(models),
        agents=tuple(agents or ()),
        scoring=_scoring(gateway_config, threshold),
        concurrency=concurrency,
        timeout_s=timeout,
        retry=RetryPolicy(attempts=retries + 1, base_delay_s=backoff, max_delay_s=max(8.0, backoff)),
        cache_dir=None if no_cache else cache,
        seed=seed,
        roi=None if finetune_cost is None else RoiInputs(finetune_cost, monthly_requests, roi_months, value_per_pass),
    )
    try:
        caller, mode, source, prices = _caller(gateway_config, config, gateway, api_key, timeout)
        report = _run(loaded, caller, prices, options, mode=mode, source=source, show=progress, console=err)
    except BenchError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc
    paths = write_reports(report, out)
    _print_summary(report, paths, cli_console())
    raise typer.Exit(report.gate.exit_code)


def _scoring(config: GatewayConfig | None, threshold: float | None) -> ScoringConfig:
    """The config's scorers (what the online worker scores with), the threshold overridden if given."""
    scoring = config.scoring.scorers if config is not None else ScoringConfig()
    return scoring if threshold is None else scoring.model_copy(update={"threshold": threshold})


def _targets(models: list[str] | None) -> tuple[str, ...]:
    if not models:
        return ("candidate", "baseline")
    return tuple(name.strip() for value in models for name in value.split(",") if name.strip())


def _caller(
    config: GatewayConfig | None, path: Path | None, gateway: str | None, api_key: str, timeout: float
) -> tuple[ModelCaller, Mode, str, PriceBook]:
    if gateway is not None:
        return GatewayCaller(gateway, api_key=api_key, timeout_s=timeout), "gateway", gateway, PriceBook(config)
    if config is not None:
        try:
            upstreams = build_upstreams(config)
        except ConfigError as exc:
            raise BenchError(str(exc)) from exc
        return UpstreamCaller(config, upstreams), "config", str(path), PriceBook(config)
    demo = demo_config()
    return UpstreamCaller(demo, build_upstreams(demo)), "simulator", "built-in simulator", PriceBook(demo)


def _run(
    suite: Suite,
    caller: ModelCaller,
    prices: PriceBook,
    options: BenchOptions,
    *,
    mode: Mode,
    source: str,
    show: bool,
    console: Console,
) -> BenchReport:
    total = len(select_cases(suite, options.agents)) * len(options.targets)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not show) as bar:
        sink = _RichProgress(bar, total)
        return asyncio.run(run_benchmark(suite, caller, prices, options, mode=mode, source=source, progress=sink))


def _print_summary(report: BenchReport, paths: dict[str, Path], console: Console) -> None:
    table = Table(title=f"{report.suite}: {report.primary} vs {report.reference or '—'}")
    for column in ("#", "agent", *report.targets, "Δ (95 % CI)", "cost ×", "verdict"):
        table.add_column(column)
    for a in report.agents:
        scores = [f"{a.targets[t].overall:.2f}" if a.targets[t].overall is not None else "n/a" for t in report.targets]
        c = a.comparison
        diff = f"{c.mean_diff:+.2f} ({c.ci_low:+.2f}…{c.ci_high:+.2f})" if c else "—"
        cost = f"{c.cost_ratio:.1f}" if c and c.cost_ratio is not None else "—"
        table.add_row(str(a.rank), a.agent, *scores, diff, cost, a.recommendation)
    console.print(table)
    colour = {"pass": "green", "fail": "red", "error": "magenta"}[report.gate.status]
    console.print(f"[{colour}]gate: {report.gate.status.upper()}[/{colour}] (exit {report.gate.exit_code})")
    for reason in report.gate.reasons[:10]:
        console.print(f"  - {reason}", soft_wrap=True)
    console.print("reports: " + ", ".join(str(p) for p in paths.values()), soft_wrap=True)
