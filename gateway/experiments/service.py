"""The A/B analysis service: analyses every agent on a timer, exports the metrics, gates staged rollouts.

Each pass reads ``ResultStore.stats`` for every agent the flags know, compares the arms
(``report.analyse``), applies the policy (``verdict.decide``) and publishes the numbers
(``ExperimentMetrics``). It is also the staged rollout's ``RolloutGate``: before each step the
rollout controller asks ``check``, which analyses afresh and answers proceed (promote verdict),
hold (anything else — no data pauses) or rollback (a rollback verdict, when ``auto_rollback``).

With ``auto_rollback`` on, a pass that finds a rollback verdict sets the candidate share to 0
itself (actor ``ab-analysis``), which also ends a running schedule. It does so once per rollback
episode: an operator who raises the share again while the verdict still says rollback (say, a
fixed model whose old scores are still in the store) is not overruled until the verdict has left
rollback and returned. Every replica runs this service; two of them rolling back at once write
the same share twice, which is harmless.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

import structlog
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ConfigDict

from gateway.errors import NotFound
from gateway.experiments.report import AgentAnalysis, DimensionResult, analyse
from gateway.experiments.results import ResultStore
from gateway.experiments.verdict import Decision, GateAction, Verdict, decide, gate_action
from gateway.flags.model import AgentFlags, FlagChange
from gateway.flags.store import FlagStore
from gateway.metrics.background import BackgroundMetrics
from gateway.metrics.experiments import ExperimentMetrics
from gateway.settings import ExperimentsConfig, Variant
from gateway.tasks import BackgroundTask

_log = structlog.get_logger("gateway.experiments")

AUTO_ACTOR = "ab-analysis"
"""The actor the audit log records for automatic rollbacks."""
_NOT_SAMPLED = "the agent's sample rate is 0: no new scores arrive, so a staged rollout holds until it is raised"


class ExperimentReport(BaseModel):
    """An agent's experiment as the admin API and the CLI show it."""

    model_config = ConfigDict(frozen=True)

    agent: str
    verdict: Decision
    reasons: tuple[str, ...]
    gate: GateAction
    """What the staged rollout would do now."""
    candidate_share: float
    enabled: bool
    samples: dict[Variant, int]
    min_samples: int
    threshold: float
    method: Literal["sequential", "fixed_horizon"]
    confidence: float
    candidate_overall_ci: tuple[float, float] | None
    dimensions: list[DimensionResult]
    analysed_at: float

    @classmethod
    def build(
        cls,
        analysis: AgentAnalysis,
        verdict: Verdict,
        flags: AgentFlags,
        config: ExperimentsConfig,
        *,
        now: float,
    ) -> ExperimentReport:
        reasons = verdict.reasons
        if verdict.decision == "continue" and flags.sample_rate == 0:
            reasons += (_NOT_SAMPLED,)
        return cls(
            agent=analysis.agent,
            verdict=verdict.decision,
            reasons=reasons,
            gate=gate_action(verdict, auto_rollback=config.auto_rollback),
            candidate_share=flags.candidate_share,
            enabled=flags.enabled,
            samples=analysis.samples,
            min_samples=config.min_samples,
            threshold=config.threshold,
            method="sequential" if config.sequential else "fixed_horizon",
            confidence=analysis.confidence,
            candidate_overall_ci=analysis.candidate_overall,
            dimensions=list(analysis.dimensions.values()),
            analysed_at=now,
        )


class ExperimentService:
    """Analysis on a timer, metrics, the rollout gate, and promote/rollback through the flag store."""

    def __init__(
        self,
        results: ResultStore,
        flags: FlagStore,
        config: ExperimentsConfig,
        metrics: ExperimentMetrics,
        *,
        clock: Callable[[], float] = time.time,
        errors: BackgroundMetrics | None = None,
    ):
        self._errors = errors or BackgroundMetrics(CollectorRegistry())
        self._results = results
        self._flags = flags
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self._latest: dict[str, ExperimentReport] = {}
        self._rolled_back: set[str] = set()
        """Agents this process rolled back automatically in their current rollback episode."""
        self._task = BackgroundTask("ab-analysis", self._run)

    async def evaluate(self, agent: str) -> ExperimentReport:
        """Analyse one agent now (reads the results store; changes nothing). ``NotFound`` for an unknown agent."""
        analysis, verdict, flags = await self._analyse(agent)
        return ExperimentReport.build(analysis, verdict, flags, self._config, now=self._clock())

    async def _analyse(self, agent: str) -> tuple[AgentAnalysis, Verdict, AgentFlags]:
        flags = self._flags.get(agent)
        if flags is None:
            raise NotFound(f"unknown agent {agent!r}", code="unknown_agent")
        analysis = analyse(agent, await self._results.stats(agent), self._config)
        return analysis, decide(analysis, self._config), flags

    async def evaluate_all(self) -> list[ExperimentReport]:
        """Every agent, analysed now."""
        return [await self.evaluate(agent) for agent in sorted(self._flags.snapshot())]

    async def run_once(self) -> dict[str, ExperimentReport]:
        """One pass over every agent: analyse, export, roll back when configured. Errors skip only that agent."""
        for agent in sorted(self._flags.snapshot()):
            try:
                analysis, verdict, flags = await self._analyse(agent)
                self._metrics.export(analysis, verdict)
                report = ExperimentReport.build(analysis, verdict, flags, self._config, now=self._clock())
                self._latest[agent] = report
                await self._act(report)
            except Exception as exc:
                # A worker loop: one agent's failure (say, Redis down) must not stop the others or the timer.
                _log.warning("a/b analysis failed", agent=agent, error=f"{type(exc).__name__}: {exc}")
                self._errors.failed("ab_analysis")
        return dict(self._latest)

    def latest(self, agent: str) -> ExperimentReport | None:
        """The last report the timer produced for ``agent``."""
        return self._latest.get(agent)

    async def check(self, agent: str) -> GateAction:
        """``RolloutGate``: proceed only on a promote verdict; a rollback verdict rolls back only with ``auto_rollback``."""
        report = await self.evaluate(agent)
        _log.info("rollout gate asked", agent=agent, verdict=report.verdict, gate=report.gate)
        return report.gate

    async def promote(self, agent: str, *, actor: str, note: str = "a/b: promote") -> AgentFlags:
        """Send every unit to the candidate (share 100 %); ends a running schedule."""
        return await self._flags.update(
            agent, FlagChange(candidate_share=100.0, stop_rollout=True), actor=actor, note=note
        )

    async def rollback(self, agent: str, *, actor: str, note: str = "a/b: rollback") -> AgentFlags:
        """Send every unit to the baseline (share 0 %); ends a running schedule."""
        flags = await self._flags.update(
            agent, FlagChange(candidate_share=0.0, stop_rollout=True), actor=actor, note=note
        )
        self._metrics.rolled_back(agent)
        return flags

    async def _act(self, report: ExperimentReport) -> None:
        agent = report.agent
        if report.verdict != "rollback":
            self._rolled_back.discard(agent)
            return
        if not self._config.auto_rollback or agent in self._rolled_back:
            return
        if report.candidate_share > 0 and report.enabled:  # otherwise nothing reaches the candidate already
            note = "automatic a/b rollback: " + "; ".join(report.reasons)
            await self.rollback(agent, actor=AUTO_ACTOR, note=note)  # a failed write is retried next pass
            _log.warning("candidate rolled back by the a/b analysis", agent=agent, reasons=list(report.reasons))
        self._rolled_back.add(agent)

    async def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self._config.interval_s)
