"""Flag changes: versions, phases, overrides and what ends a schedule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.flags.model import AgentFlags, AuditEntry, FlagChange
from gateway.flags.schedule import RolloutPlan, RolloutRequest

BASE = AgentFlags(agent="a", candidate_share=10, sample_rate=0.1, salt="a")
PLAN = RolloutPlan.start(RolloutRequest(steps=(10, 50), interval_s=60), now=0.0, actor="alice")


def test_a_share_outside_0_to_100_is_refused() -> None:
    """The model itself refuses a share below 0 or above 100."""
    for share in (-0.5, 100.5):
        with pytest.raises(ValidationError):
            FlagChange(candidate_share=share)


def test_a_change_keeps_what_it_does_not_name() -> None:
    """Fields left out keep their value; the version moves by one and the time is stamped."""
    new = FlagChange(sample_rate=0.5).apply(BASE, now=42.0)
    assert (new.candidate_share, new.sample_rate, new.version, new.updated_at) == (10, 0.5, 2, 42.0)
    assert BASE.sample_rate == 0.1


def test_a_change_reaches_a_splitter_already_in_use() -> None:
    """The new flags build their own split: a kill after the old split was used sends everyone to the baseline."""
    flags = AgentFlags(agent="a", candidate_share=100, sample_rate=0, salt="a")
    assert flags.splitter.assign("u").variant == "candidate"
    killed = FlagChange(enabled=False).apply(flags, now=1)
    assert killed.splitter.assign("u").variant == "baseline"
    assert FlagChange(enabled=True).apply(killed, now=2).splitter.assign("u").variant == "candidate"


def test_fine_shares_reach_the_splitter() -> None:
    """A 0.5 % canary is 50 buckets out of 10,000."""
    assert FlagChange(candidate_share=0.5).apply(BASE, now=0).splitter.threshold == 50


@pytest.mark.parametrize(
    ("change", "keeps_plan"),
    [
        (FlagChange(sample_rate=0.2), True),
        (FlagChange(pin={"u": "candidate"}), True),
        (FlagChange(enabled=True), True),
        (FlagChange(enabled=False), False),
        (FlagChange(candidate_share=30), False),
        (FlagChange(stop_rollout=True), False),
    ],
)
def test_what_ends_a_schedule(change: FlagChange, keeps_plan: bool) -> None:
    """A kill, a hand-set share or an explicit stop ends a schedule; other changes leave it running."""
    running = BASE.model_copy(update={"rollout": PLAN})
    assert (change.apply(running, now=1).rollout is not None) is keeps_plan


def test_empty_change_is_recognised() -> None:
    """A change naming nothing is empty; naming anything is not."""
    assert FlagChange().is_empty()
    assert not FlagChange(stop_rollout=True).is_empty()
    assert not FlagChange(enabled=False).is_empty()


def test_audit_entry_lists_changed_fields() -> None:
    """An audit entry's changes name the fields that moved, without version and time."""
    new = FlagChange(candidate_share=20, pin={"u": "baseline"}).apply(BASE, now=5)
    entry = AuditEntry(id="1", at=5, agent="a", actor="alice", old=BASE, new=new)
    assert entry.changes() == {"candidate_share": (10, 20), "overrides": ({}, {"u": "baseline"}), "phase": (1, 2)}
