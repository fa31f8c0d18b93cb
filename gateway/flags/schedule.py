"""A staged-rollout schedule: the candidate share steps (5 → 25 → 50 → 100 %) and their pace.

A schedule is part of an agent's flags, so it is versioned, audited and shared by every replica
like the share itself; the rollout controller (``gateway.flags.rollout``) carries it out.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.settings import RolloutRequest

__all__ = ["RolloutPlan", "RolloutRequest"]  # the request is a config type too (an agent's ``rollout``)


class RolloutPlan(BaseModel):
    """A schedule in progress: which step is in force and when the next one is due."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[float, ...]
    interval_s: float
    step: int = Field(ge=0)
    """Index of the step in force (its share is the agent's candidate share)."""
    next_at: float
    """Unix time at which the next step is due."""
    started_at: float
    started_by: str
    last_gate: str | None = None
    """The quality gate's last answer about the next step (proceed, hold; hold when the gate failed)."""
    held_since: float | None = None
    """Unix time since which the gate holds the next step, while it does; ``None`` otherwise."""

    @classmethod
    def start(cls, request: RolloutRequest, *, now: float, actor: str) -> RolloutPlan:
        """A plan whose first step is in force from ``now``."""
        return cls(
            steps=request.steps,
            interval_s=request.interval_s,
            step=0,
            next_at=now + request.interval_s,
            started_at=now,
            started_by=actor,
        )

    @property
    def share(self) -> float:
        """The share of the step in force."""
        return self.steps[self.step]

    @property
    def target(self) -> float:
        """The share the schedule ends at."""
        return self.steps[-1]

    def due(self, now: float) -> bool:
        """Whether the next step should be taken."""
        return now >= self.next_at

    def advanced(self, now: float) -> RolloutPlan | None:
        """The plan after taking the next step, or ``None`` when that step is the last (the schedule is done)."""
        step = self.step + 1
        if step >= len(self.steps) - 1:
            return None
        return self.model_copy(
            update={"step": step, "next_at": now + self.interval_s, "last_gate": "proceed", "held_since": None}
        )

    def held(self, now: float) -> RolloutPlan:
        """The plan with its next step held by the gate from ``now`` (the start of the hold is kept)."""
        return self.model_copy(update={"last_gate": "hold", "held_since": self.held_since or now})

    def next_share(self) -> float:
        """The share the next step sets."""
        return self.steps[min(self.step + 1, len(self.steps) - 1)]
