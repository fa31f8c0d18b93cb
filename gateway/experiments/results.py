"""The seam where scored samples are kept for the A/B analysis (memory or Redis homes live beside it)."""

from __future__ import annotations

from typing import Protocol

from gateway.experiments.moments import ArmStats


class ResultStore(Protocol):
    """Per agent and variant score moments, shared by every worker and replica in production."""

    async def stats(self, agent: str) -> dict[str, ArmStats]:
        """The agent's arms by variant name (``candidate``, ``baseline``); missing arms are absent."""
        ...
