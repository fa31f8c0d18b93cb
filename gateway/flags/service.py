"""What the admin API does with flags: read, change, kill, revive, schedule, audit, SRM.

The HTTP layer (``gateway.api.admin``) only translates requests to these calls; every rule about
what a change may be (a known agent, a non-empty change, a well-formed schedule) lives here or in
the models, and a refused change leaves the flags as they were.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from gateway.errors import BadRequest, NotFound
from gateway.flags.counts import AssignmentCounter, VariantCounts
from gateway.flags.model import AgentFlags, AuditEntry, FlagChange
from gateway.flags.schedule import RolloutPlan, RolloutRequest
from gateway.flags.srm import SRM_THRESHOLD, SrmStatus, srm_check
from gateway.flags.store import FlagStore

PHASE_NOTE = (
    "Counts cover the current phase only: a new phase starts (and the counts start from zero) whenever the "
    "candidate share changes. Only units assigned by hash or at random count; overrides, forced variants and "
    "a killed agent are left out."
)


class SrmView(BaseModel):
    """The sample-ratio-mismatch check of one phase."""

    model_config = ConfigDict(frozen=True)

    status: SrmStatus
    detected: bool
    p_value: float
    chi_square: float
    threshold: float
    expected_candidate_fraction: float


class AssignmentReport(BaseModel):
    """Assignment counts of an agent's current phase and their SRM check."""

    model_config = ConfigDict(frozen=True)

    agent: str
    phase: int
    candidate_share: float
    enabled: bool
    counts: dict[str, int]
    srm: SrmView
    note: str = PHASE_NOTE


class FlagService:
    """Flag operations on behalf of an admin (named ``actor`` in the audit log)."""

    def __init__(self, store: FlagStore, counter: AssignmentCounter, *, clock: Callable[[], float] = time.time):
        self._store = store
        self._counter = counter
        self._clock = clock

    def all(self) -> list[AgentFlags]:
        """Every agent's flags, by name."""
        return [flags for _, flags in sorted(self._store.snapshot().items())]

    def one(self, agent: str) -> AgentFlags:
        """One agent's flags; 404 for an unknown agent."""
        flags = self._store.get(agent)
        if flags is None:
            raise NotFound(f"unknown agent {agent!r}", code="unknown_agent")
        return flags

    async def change(self, agent: str, change: FlagChange, *, actor: str) -> AgentFlags:
        """Apply a change (share, sample rate, overrides, ...); 400 when it changes nothing."""
        self.one(agent)
        if change.is_empty():
            raise BadRequest(
                "nothing to change: give candidate_share, sample_rate, enabled, overrides, pin or unpin",
                code="empty_change",
            )
        return await self._store.update(agent, change, actor=actor, note=_describe(change))

    async def kill(self, agent: str, *, actor: str) -> AgentFlags:
        """The kill switch: every request to the baseline, and any schedule stopped."""
        self.one(agent)
        return await self._store.update(agent, FlagChange(enabled=False), actor=actor, note="kill")

    async def revive(self, agent: str, *, actor: str) -> AgentFlags:
        """Undo a kill: the split runs again at the share it had."""
        self.one(agent)
        return await self._store.update(agent, FlagChange(enabled=True), actor=actor, note="revive")

    async def start_rollout(self, agent: str, request: RolloutRequest, *, actor: str) -> AgentFlags:
        """Start a schedule: its first step's share applies now, the rest follow every ``interval_s``."""
        flags = self.one(agent)
        if not flags.enabled:
            raise BadRequest(f"agent {agent!r} is killed: revive it before starting a rollout", code="agent_disabled")
        plan = RolloutPlan.start(request, now=self._clock(), actor=actor)
        # A one-step schedule is just a share change: nothing is left to carry out.
        change = FlagChange(candidate_share=plan.share, rollout=plan if len(plan.steps) > 1 else None)
        steps = " → ".join(f"{s:g}" for s in request.steps)
        note = f"rollout started: {steps} % every {request.interval_s:g} s"
        return await self._store.update(agent, change, actor=actor, note=note, expect_version=flags.version)

    async def stop_rollout(self, agent: str, *, actor: str) -> AgentFlags:
        """Stop a schedule where it is; the share stays at the current step."""
        flags = self.one(agent)
        if flags.rollout is None:
            raise BadRequest(f"agent {agent!r} has no rollout in progress", code="no_rollout")
        return await self._store.update(agent, FlagChange(stop_rollout=True), actor=actor, note="rollout stopped")

    async def history(self, agent: str, *, limit: int) -> list[AuditEntry]:
        """The agent's audit log, newest first."""
        self.one(agent)
        return await self._store.history(agent, limit=limit)

    async def assignments(self, agent: str) -> AssignmentReport:
        """Counts of the agent's current phase and their SRM check."""
        flags = self.one(agent)
        counts = await self._counter.counts(agent, flags.phase)
        return _report(flags, counts)

    async def srm_all(self) -> list[AssignmentReport]:
        """Every agent's assignment report."""
        return [await self.assignments(flags.agent) for flags in self.all()]


def _report(flags: AgentFlags, counts: VariantCounts) -> AssignmentReport:
    result = srm_check(counts, flags.candidate_share)
    return AssignmentReport(
        agent=flags.agent,
        phase=flags.phase,
        candidate_share=flags.candidate_share,
        enabled=flags.enabled,
        counts={"candidate": counts.candidate, "baseline": counts.baseline},
        srm=SrmView(
            status=result.status,
            detected=result.detected,
            p_value=result.p_value,
            chi_square=result.chi_square,
            threshold=SRM_THRESHOLD,
            expected_candidate_fraction=result.expected_candidate_fraction,
        ),
    )


def _describe(change: FlagChange) -> str:
    parts = [f"{name}={value}" for name, value in change.model_dump(exclude_none=True, exclude_defaults=True).items()]
    return "set " + ", ".join(parts)
