"""Running moments of a quantity (count, sum, sum of squares): enough for means, variances and tests.

They add up across workers and replicas (Redis ``HINCRBYFLOAT`` on three fields), which is why the
A/B store keeps these rather than raw scores.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

from gateway.settings import Variant

PASS = "pass"
"""The pseudo-dimension whose moments count pass outcomes (1 pass, 0 fail)."""


class Moments(BaseModel):
    """Count, sum and sum of squares of a stream of values."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(default=0, ge=0)
    total: float = 0.0
    total_sq: float = 0.0

    def add(self, value: float) -> Moments:
        """The moments with one more value."""
        return Moments(count=self.count + 1, total=self.total + value, total_sq=self.total_sq + value * value)

    def merge(self, other: Moments) -> Moments:
        """The moments of both streams together."""
        return Moments(
            count=self.count + other.count, total=self.total + other.total, total_sq=self.total_sq + other.total_sq
        )

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    @property
    def variance(self) -> float:
        """Unbiased sample variance; NaN below two values."""
        if self.count < 2:
            return math.nan
        return max(0.0, (self.total_sq - self.total * self.total / self.count) / (self.count - 1))


class ArmStats(BaseModel):
    """One agent's variant: moments per dimension (quality, relevance, format, specificity, overall, pass)."""

    model_config = ConfigDict(frozen=True)

    agent: str
    variant: Variant
    dimensions: dict[str, Moments] = Field(default_factory=dict)

    def of(self, dimension: str) -> Moments:
        return self.dimensions.get(dimension, Moments())
