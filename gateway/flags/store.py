"""The flag store seam and its in-memory home (the embedded default, seeded from the YAML file)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol

from gateway.errors import NotFound
from gateway.flags.model import AgentFlags, FlagChange
from gateway.settings import GatewayConfig


class FlagStore(Protocol):
    """Where agents' flags live. ``get`` and ``snapshot`` read the local copy and never do I/O."""

    def get(self, agent: str) -> AgentFlags | None:
        """The agent's current flags, or ``None`` for an unknown agent."""
        ...

    def snapshot(self) -> Mapping[str, AgentFlags]:
        """Every agent's current flags."""
        ...

    async def update(self, agent: str, change: FlagChange, *, actor: str) -> AgentFlags:
        """Apply a change and return the new flags; raises ``NotFound`` for an unknown agent."""
        ...

    async def start(self) -> None:
        """Open connections and load the current flags."""
        ...

    async def close(self) -> None:
        """Release connections and background tasks."""
        ...


def flags_from_config(config: GatewayConfig) -> dict[str, AgentFlags]:
    """Every agent's initial flags."""
    return {name: AgentFlags.from_config(name, cfg) for name, cfg in config.agents.items()}


class MemoryFlagStore:
    """Flags in this process only: the embedded default."""

    def __init__(self, initial: Mapping[str, AgentFlags]):
        self._flags = dict(initial)

    def get(self, agent: str) -> AgentFlags | None:
        return self._flags.get(agent)

    def snapshot(self) -> Mapping[str, AgentFlags]:
        return dict(self._flags)

    async def update(self, agent: str, change: FlagChange, *, actor: str) -> AgentFlags:
        current = self._flags.get(agent)
        if current is None:
            raise NotFound(f"unknown agent {agent!r}", code="unknown_agent")
        new = change.apply(current, now=time.time())
        self._flags[agent] = new
        return new

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
