"""Rollout schedules: what makes a valid one, and how a plan steps through it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.flags.schedule import RolloutPlan, RolloutRequest


@pytest.mark.parametrize(
    ("steps", "interval", "message"),
    [
        ((5, 25, 25), 60, "strictly increasing"),
        ((50, 25), 60, "strictly increasing"),
        ((5, 101), 60, "within 0–100"),
        ((-1, 5), 60, "within 0–100"),
        ((), 60, "at least 1"),
        ((5, 25), 0, "greater than 0"),
        ((5, 25), -30, "greater than 0"),
    ],
)
def test_malformed_schedules_are_refused(steps: tuple[float, ...], interval: float, message: str) -> None:
    """Steps must increase strictly within 0–100 and the interval must be positive."""
    with pytest.raises(ValidationError, match=message):
        RolloutRequest(steps=steps, interval_s=interval)


def test_a_plan_steps_to_its_end() -> None:
    """The first step applies at start; each later one is due an interval after the previous; the last ends it."""
    plan = RolloutPlan.start(RolloutRequest(steps=(5, 25, 100), interval_s=60), now=1000.0, actor="alice")
    assert (plan.share, plan.target, plan.next_at) == (5, 100, 1060.0)
    assert not plan.due(1059.9) and plan.due(1060.0)
    second = plan.advanced(1061.0)
    assert second is not None and (second.share, second.next_at, second.next_share()) == (25, 1121.0, 100)
    assert second.advanced(1121.0) is None
