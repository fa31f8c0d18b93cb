"""The flags of one agent, a change to them, and the audit record of a change."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import BadRequest
from gateway.flags.schedule import RolloutPlan
from gateway.routing.assign import Splitter, share_to_threshold
from gateway.settings import AgentConfig, Variant

CONFIG_ACTOR = "config"
"""Who started a rollout that the config file declares."""

_BOOKKEEPING = {"version", "updated_at"}

MAX_OVERRIDES = 10_000
"""Most overrides an agent may hold: they ride along in every flag sync and every audit entry."""


class AgentFlags(BaseModel):
    """An agent's flags at one version; immutable — a change makes a new object."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str
    enabled: bool = True
    candidate_share: float = Field(ge=0, le=100)
    sample_rate: float = Field(ge=0, le=1)
    overrides: dict[str, Variant] = Field(default_factory=dict)
    salt: str
    version: int = Field(default=1, ge=1)
    updated_at: float = 0.0
    phase: int = Field(default=1, ge=1)
    """Moves on whenever the candidate share changes; assignment counts (and the SRM check) are per phase."""
    rollout: RolloutPlan | None = None
    """The staged-rollout schedule in progress, if any."""

    @cached_property
    def splitter(self) -> Splitter:
        """The precomputed split the request path uses."""
        return Splitter(
            salt=self.salt,
            threshold=share_to_threshold(self.candidate_share),
            enabled=self.enabled,
            overrides=self.overrides,
        )

    @classmethod
    def from_config(cls, agent: str, cfg: AgentConfig, *, now: float = 0.0) -> AgentFlags:
        """The initial flags of an agent, as the YAML file states them; a ``rollout`` there starts at ``now``."""
        share, plan = cfg.candidate_share, None
        if cfg.rollout is not None:
            plan = RolloutPlan.start(cfg.rollout, now=now, actor=CONFIG_ACTOR)
            share = plan.share
        return cls(
            agent=agent,
            enabled=cfg.enabled,
            candidate_share=share,
            sample_rate=cfg.sample_rate,
            overrides=dict(cfg.overrides),
            salt=cfg.salt or agent,
            rollout=plan if plan is not None and len(plan.steps) > 1 else None,  # one step is just a share
        )


class FlagChange(BaseModel):
    """A partial change; fields left ``None`` keep their value.

    Switching the agent off (the kill switch), setting the share by hand or ``stop_rollout`` ends a
    running schedule — a hand-set share must not be overwritten by the schedule's next step.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = None
    candidate_share: float | None = Field(default=None, ge=0, le=100)
    sample_rate: float | None = Field(default=None, ge=0, le=1)
    overrides: dict[str, Variant] | None = None
    """Replaces every override."""
    pin: dict[str, Variant] | None = None
    """Adds or changes overrides for these units."""
    unpin: tuple[str, ...] | None = None
    """Removes the overrides of these units."""
    rollout: RolloutPlan | None = None
    """Installs (or advances) a schedule."""
    stop_rollout: bool = False

    def is_empty(self) -> bool:
        """Whether this change would change nothing but the version."""
        return not self.model_dump(exclude_none=True, exclude_defaults=True)

    def apply(self, current: AgentFlags, *, now: float) -> AgentFlags:
        """The flags after this change, one version later."""
        update: dict[str, Any] = self.model_dump(
            include={"enabled", "candidate_share", "sample_rate"}, exclude_none=True
        )
        update["overrides"] = self._overrides(current.overrides)
        update["rollout"] = self._rollout(current.rollout)
        share = update.get("candidate_share", current.candidate_share)
        phase = current.phase + 1 if share != current.candidate_share else current.phase
        # A new, validated object rather than ``model_copy``: a copy would carry over the cached
        # ``splitter`` of the old flags, and a kill would not reach the request path.
        fields = current.model_dump() | update | {"phase": phase, "version": current.version + 1, "updated_at": now}
        return AgentFlags.model_validate(fields)

    def _overrides(self, current: dict[str, Variant]) -> dict[str, Variant]:
        result = dict(current if self.overrides is None else self.overrides)
        result.update(self.pin or {})
        for unit in self.unpin or ():
            result.pop(unit, None)
        # Only growth is refused: an agent already over the cap (from its YAML) can still be changed.
        if len(result) > MAX_OVERRIDES and len(result) > len(current):
            raise BadRequest(
                f"an agent holds at most {MAX_OVERRIDES:,} overrides; this change would leave {len(result):,} "
                f"(it has {len(current):,}): unpin some first",
                code="too_many_overrides",
            )
        return result

    def _rollout(self, current: RolloutPlan | None) -> RolloutPlan | None:
        if self.rollout is not None:
            return self.rollout
        if self.stop_rollout or self.enabled is False or self.candidate_share is not None:
            return None
        return current


class AuditEntry(BaseModel):
    """One recorded change: when, who (the admin token's name, or a component), and the flags before and after."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    """Position in the log (a Redis stream id, or a counter in memory); later entries sort higher."""
    at: float
    agent: str
    actor: str
    note: str = ""
    old: AgentFlags | None
    """``None`` for the entry that seeded the agent."""
    new: AgentFlags

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """The fields that changed, as ``{field: (old, new)}`` (version and time left out)."""
        new = self.new.model_dump(exclude=_BOOKKEEPING)
        old = self.old.model_dump(exclude=_BOOKKEEPING) if self.old is not None else {}
        return {name: (old.get(name), value) for name, value in new.items() if old.get(name) != value}
