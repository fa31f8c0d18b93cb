"""Building score moments for tests from summary numbers (n, mean, sd) or from raw values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gateway.experiments.moments import PASS, ArmStats, Moments
from gateway.settings import GatewayConfig, Variant


def summary(n: int, mean: float, sd: float) -> Moments:
    """Moments of ``n`` values with this mean and (sample) standard deviation."""
    return Moments(count=n, total=n * mean, total_sq=(n - 1) * sd * sd + n * mean * mean)


def of_values(values: Iterable[float]) -> Moments:
    """Moments of these values, added one by one."""
    moments = Moments()
    for value in values:
        moments = moments.add(value)
    return moments


def passes(n: int, passed: int) -> Moments:
    """Moments of ``n`` pass outcomes, ``passed`` of them 1."""
    return Moments(count=n, total=float(passed), total_sq=float(passed))


def arm(
    agent: str, variant: Variant, n: int, mean: float, *, sd: float = 1.0, pass_rate: float | None = None
) -> ArmStats:
    """An arm with an overall score and a pass rate (by default the share of a normal above 8.0, roughly)."""
    rate = pass_rate if pass_rate is not None else min(1.0, max(0.0, 0.5 + (mean - 8.0) / (2 * sd)))
    return ArmStats(
        agent=agent,
        variant=variant,
        dimensions={"overall": summary(n, mean, sd), PASS: passes(n, round(n * rate))},
    )


AGENTS = ("qa_agent", "support_agent")


def experiment_config(share: float = 30.0, **experiments: Any) -> GatewayConfig:
    """Two agents on a fast simulator (``support_agent`` at ``share`` %, ``qa_agent`` at 50 %), experiments as given."""
    agents = {
        name: {
            "candidate": {"model": f"ft:sim-base:{name}", "upstream": "sim"},
            "baseline": {"model": "sim-base", "upstream": "sim"},
            "candidate_share": share if name == "support_agent" else 50,
            "sample_rate": 0,
        }
        for name in AGENTS
    }
    return GatewayConfig.model_validate(
        {
            "upstreams": {
                "sim": {"kind": "simulated", "simulator": {"first_token_ms": 0, "tokens_per_second": 100_000}}
            },
            "agents": agents,
            "experiments": experiments,
        }
    )


class TableResults:
    """A ``ResultStore`` of the test's own making: arms per agent as the test sets them (a collaborator's double)."""

    def __init__(self) -> None:
        self.arms: dict[str, list[ArmStats]] = {}
        self.broken: set[str] = set()
        """Agents whose read fails, as a dead Redis would."""

    def set(self, agent: str, *arms: ArmStats) -> None:
        self.arms[agent] = list(arms)

    async def stats(self, agent: str) -> dict[str, ArmStats]:
        if agent in self.broken:
            raise ConnectionError("results store unreachable")
        return {a.variant: a for a in self.arms.get(agent, [])}
