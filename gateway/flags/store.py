"""The flag store seam and its in-memory home (the embedded default, seeded from the YAML file)."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

from gateway.errors import NotFound
from gateway.flags.errors import VersionConflict
from gateway.flags.model import AgentFlags, AuditEntry, FlagChange
from gateway.settings import GatewayConfig

AUDIT_KEEP = 1000
"""Audit entries kept per agent (Redis trims its stream to about this many)."""


class FlagStore(Protocol):
    """Where agents' flags live. ``get``, ``snapshot`` and ``staleness`` read the local copy and never do I/O."""

    def get(self, agent: str) -> AgentFlags | None:
        """The agent's current flags, or ``None`` for an unknown agent."""
        ...

    def snapshot(self) -> Mapping[str, AgentFlags]:
        """Every agent's current flags."""
        ...

    def staleness(self) -> float:
        """Seconds since the local copy was last known to match the shared store (0 when there is none)."""
        ...

    async def update(
        self, agent: str, change: FlagChange, *, actor: str, note: str = "", expect_version: int | None = None
    ) -> AgentFlags:
        """Apply a change atomically, record it in the audit log and return the new flags.

        Raises ``NotFound`` for an unknown agent, ``VersionConflict`` when ``expect_version`` is given
        and the flags have moved past it, ``StoreUnavailable`` when the shared store does not answer.
        """
        ...

    async def history(self, agent: str, *, limit: int = 50) -> list[AuditEntry]:
        """The agent's most recent audit entries, newest first."""
        ...

    async def start(self) -> None:
        """Open connections and load the current flags."""
        ...

    async def close(self) -> None:
        """Release connections and background tasks."""
        ...


def flags_from_config(config: GatewayConfig, *, now: float | None = None) -> dict[str, AgentFlags]:
    """Every agent's initial flags; a rollout in the file starts ``now`` (the clock's time by default)."""
    at = time.time() if now is None else now
    return {name: AgentFlags.from_config(name, cfg, now=at) for name, cfg in config.agents.items()}


def unknown_agent(agent: str) -> NotFound:
    """The error for a change to an agent the config does not name."""
    return NotFound(f"unknown agent {agent!r}", code="unknown_agent")


def check_version(current: AgentFlags, expect_version: int | None) -> None:
    """Raise ``VersionConflict`` when the flags are no longer at ``expect_version``."""
    if expect_version is not None and current.version != expect_version:
        raise VersionConflict(
            f"flags of {current.agent!r} are at version {current.version}, not {expect_version}: nothing changed",
            code="version_conflict",
        )


class MemoryFlagStore:
    """Flags in this process only: the embedded default."""

    def __init__(self, initial: Mapping[str, AgentFlags], *, clock: Callable[[], float] = time.time):
        self._flags = dict(initial)
        self._clock = clock
        self._audit: dict[str, deque[AuditEntry]] = {}
        self._ids = itertools.count(1)

    def get(self, agent: str) -> AgentFlags | None:
        return self._flags.get(agent)

    def snapshot(self) -> Mapping[str, AgentFlags]:
        return dict(self._flags)

    def staleness(self) -> float:
        return 0.0

    async def update(
        self, agent: str, change: FlagChange, *, actor: str, note: str = "", expect_version: int | None = None
    ) -> AgentFlags:
        current = self._flags.get(agent)
        if current is None:
            raise unknown_agent(agent)
        check_version(current, expect_version)
        now = self._clock()
        new = change.apply(current, now=now)
        self._flags[agent] = new
        entry = AuditEntry(id=str(next(self._ids)), at=now, agent=agent, actor=actor, note=note, old=current, new=new)
        self._audit.setdefault(agent, deque(maxlen=AUDIT_KEEP)).append(entry)
        return new

    async def history(self, agent: str, *, limit: int = 50) -> list[AuditEntry]:
        if agent not in self._flags:
            raise unknown_agent(agent)
        entries = self._audit.get(agent, ())
        return list(reversed(entries))[:limit]

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
