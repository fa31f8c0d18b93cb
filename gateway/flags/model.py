"""The flags of one agent, and a change to them."""

from __future__ import annotations

from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

from gateway.routing.assign import Splitter, share_to_threshold
from gateway.settings import AgentConfig, Variant


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
    def from_config(cls, agent: str, cfg: AgentConfig) -> AgentFlags:
        """The initial flags of an agent, as the YAML file states them."""
        return cls(
            agent=agent,
            enabled=cfg.enabled,
            candidate_share=cfg.candidate_share,
            sample_rate=cfg.sample_rate,
            overrides=dict(cfg.overrides),
            salt=cfg.salt or agent,
        )


class FlagChange(BaseModel):
    """A partial change; fields left ``None`` keep their value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool | None = None
    candidate_share: float | None = Field(default=None, ge=0, le=100)
    sample_rate: float | None = Field(default=None, ge=0, le=1)
    overrides: dict[str, Variant] | None = None

    def apply(self, current: AgentFlags, *, now: float) -> AgentFlags:
        """The flags after this change, one version later."""
        changed = self.model_dump(exclude_none=True)
        return current.model_copy(update={**changed, "version": current.version + 1, "updated_at": now})
