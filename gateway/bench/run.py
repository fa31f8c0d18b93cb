"""One benchmark, end to end: select cases, answer and score them, summarise, and write the three reports."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from gateway.bench.cache import AnswerCache
from gateway.bench.callers import ModelCaller, PriceBook
from gateway.bench.errors import BenchError
from gateway.bench.model import BenchReport, CaseReport, Run
from gateway.bench.report_html import render_html
from gateway.bench.report_md import render_markdown
from gateway.bench.roi import compute_roi
from gateway.bench.runner import BenchRunner, ProgressSink, RetryPolicy
from gateway.bench.summary import agent_results, gate, strongest_cases, summarize, weakest_cases
from scoring.composite import Composite, ScoringConfig, ScoringConfigError
from scoring.suites import Case, Suite

Mode = Literal["simulator", "config", "gateway"]


@dataclass(frozen=True, slots=True)
class RoiInputs:
    """What the ROI section needs beyond the measurements."""

    finetune_cost_usd: float
    monthly_requests: int
    months: int = 12
    value_per_pass_usd: float | None = None


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """How to run a benchmark (the CLI's options, typed)."""

    targets: tuple[str, ...] = ("candidate", "baseline")
    """The first is under test; the second, if any, is what it is compared against."""
    agents: tuple[str, ...] = ()
    """Only these agents' cases; empty = every agent of the suite."""
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    """The scorers and pass threshold: the config's ``scoring.scorers``, as the online worker uses them."""
    concurrency: int = 16
    timeout_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_dir: Path | None = Path(".genesis-cache")
    seed: int = 0
    roi: RoiInputs | None = None

    @property
    def threshold(self) -> float:
        return self.scoring.threshold


def select_cases(suite: Suite, agents: Sequence[str]) -> list[Case]:
    """The suite's cases, limited to ``agents`` when given; unknown agent names are an error."""
    if not agents:
        return list(suite.cases)
    known = {c.agent for c in suite.cases}
    unknown = sorted(set(agents) - known)
    if unknown:
        raise BenchError(
            f"suite {suite.name!r} has no cases for {', '.join(unknown)} (it has {', '.join(sorted(known))})"
        )
    return [c for c in suite.cases if c.agent in agents]


async def run_benchmark(
    suite: Suite,
    caller: ModelCaller,
    prices: PriceBook,
    options: BenchOptions,
    *,
    mode: Mode,
    source: str,
    progress: ProgressSink | None = None,
) -> BenchReport:
    """Answer, score and summarise the suite; ``BenchError`` when the run cannot start or go on."""
    if len(set(options.targets)) != len(options.targets) or not options.targets:
        raise BenchError(f"targets must be distinct and at least one: {', '.join(options.targets)}")
    cases = select_cases(suite, options.agents)
    try:
        composite = Composite(options.scoring)
    except ScoringConfigError as exc:
        raise BenchError(f"scoring: {exc}") from exc
    cache = AnswerCache(options.cache_dir) if options.cache_dir is not None else None
    runner = BenchRunner(
        caller,
        composite,
        prices,
        concurrency=options.concurrency,
        retry=options.retry,
        timeout_s=options.timeout_s,
        cache=cache,
        progress=progress,
        seed=options.seed,
    )
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    runs = await runner.run(cases, options.targets)
    duration = time.perf_counter() - started
    return build_report(
        suite,
        cases,
        runs,
        options,
        mode=mode,
        source=source,
        started_at=started_at,
        duration_s=duration,
        scorer=next((r.score.scorer for r in runs if r.score is not None), "heuristic"),
    )


def build_report(
    suite: Suite,
    cases: Sequence[Case],
    runs: Sequence[Run],
    options: BenchOptions,
    *,
    mode: Mode,
    source: str,
    started_at: str,
    duration_s: float,
    scorer: str,
) -> BenchReport:
    """Summaries, comparisons, ROI and gate from the scored runs."""
    targets = list(options.targets)
    agents = agent_results(runs, targets, threshold=options.threshold, seed=options.seed)
    errors = [f"{r.case_id} × {r.target}: {r.error} (after {r.attempts} attempt(s))" for r in runs if r.error]
    roi = None
    if options.roi is not None:
        roi = compute_roi(
            agents,
            targets,
            finetune_cost_usd=options.roi.finetune_cost_usd,
            monthly_requests=options.roi.monthly_requests,
            months=options.roi.months,
            value_per_pass_usd=options.roi.value_per_pass_usd,
        )
    by_case: dict[str, dict[str, Run]] = {}
    for run in runs:
        by_case.setdefault(run.case_id, {})[run.target] = run
    return BenchReport(
        suite=suite.name,
        suite_description=suite.description,
        mode=mode,
        source=source,
        targets=targets,
        threshold=options.threshold,
        scorer=scorer,
        seed=options.seed,
        started_at=started_at,
        duration_s=round(duration_s, 3),
        overall={t: summarize(t, [r for r in runs if r.target == t]) for t in targets},
        agents=agents,
        weakest=weakest_cases(runs, targets),
        strongest=strongest_cases(runs, targets),
        roi=roi,
        gate=gate(agents, errors),
        errors=errors,
        cases=[
            CaseReport(
                id=c.id,
                agent=c.agent,
                messages=c.messages,
                expected_keywords=c.expected_keywords,
                must_contain=c.must_contain,
                variants=by_case.get(c.id, {}),
            )
            for c in cases
        ],
    )


def write_reports(report: BenchReport, out: Path) -> dict[str, Path]:
    """``report.md``, ``report.json`` and ``report.html`` in ``out`` (created if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "report.md", "json": out / "report.json", "html": out / "report.html"}
    paths["md"].write_text(render_markdown(report), encoding="utf-8")
    paths["json"].write_text(report.model_dump_json(indent=2), encoding="utf-8")
    paths["html"].write_text(render_html(report), encoding="utf-8")
    return paths
