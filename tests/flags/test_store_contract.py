"""The flag store contract, run against every home (memory and Redis) through the ``store`` fixture."""

from __future__ import annotations

import pytest

from gateway.errors import NotFound
from gateway.flags.errors import VersionConflict
from gateway.flags.model import FlagChange
from gateway.flags.schedule import RolloutPlan, RolloutRequest
from gateway.flags.store import FlagStore

pytestmark = pytest.mark.redis


async def test_starts_from_the_config_seed(store: FlagStore) -> None:
    """A fresh store serves each agent's flags as the config states them, at version 1."""
    flags = store.get("support_agent")
    assert flags is not None
    assert (flags.candidate_share, flags.enabled, flags.version, flags.phase) == (30.0, True, 1, 1)
    assert sorted(store.snapshot()) == ["qa_agent", "support_agent"]
    assert store.get("nobody") is None


async def test_update_moves_the_version_and_is_read_back(store: FlagStore) -> None:
    """A change returns the new flags one version later, and the local copy serves them at once."""
    new = await store.update("support_agent", FlagChange(candidate_share=25), actor="alice")
    assert (new.candidate_share, new.version) == (25.0, 2)
    assert store.get("support_agent") == new
    assert store.get("support_agent").splitter.threshold == 2500  # type: ignore[union-attr]


async def test_unknown_agent_is_refused(store: FlagStore) -> None:
    """A change to an agent the config does not name raises NotFound and creates nothing."""
    with pytest.raises(NotFound):
        await store.update("nobody", FlagChange(candidate_share=5), actor="alice")
    assert store.get("nobody") is None


async def test_expect_version_guards_against_lost_updates(store: FlagStore) -> None:
    """A change based on an old version is refused and leaves the flags as they are."""
    await store.update("support_agent", FlagChange(candidate_share=40), actor="alice")
    with pytest.raises(VersionConflict):
        await store.update("support_agent", FlagChange(candidate_share=90), actor="bob", expect_version=1)
    flags = store.get("support_agent")
    assert flags is not None and (flags.candidate_share, flags.version) == (40.0, 2)


async def test_history_records_actor_old_and_new(store: FlagStore) -> None:
    """Every change is in the audit log, newest first, with its actor, note, old and new flags."""
    await store.update("support_agent", FlagChange(candidate_share=20), actor="alice", note="widen")
    await store.update("support_agent", FlagChange(enabled=False), actor="bob", note="kill")
    entries = [e for e in await store.history("support_agent") if e.actor != "config"]
    assert [(e.actor, e.note) for e in entries] == [("bob", "kill"), ("alice", "widen")]
    kill, widen = entries
    assert kill.old is not None and kill.old.enabled and not kill.new.enabled
    assert widen.old is not None and (widen.old.candidate_share, widen.new.candidate_share) == (30.0, 20.0)
    assert widen.changes()["candidate_share"] == (30.0, 20.0)
    assert kill.at >= widen.at and kill.id != widen.id


async def test_history_limit_and_unknown_agent(store: FlagStore) -> None:
    """``limit`` caps the entries returned; an unknown agent's history is NotFound."""
    for share in (1, 2, 3):
        await store.update("qa_agent", FlagChange(candidate_share=share), actor="alice")
    assert [e.new.candidate_share for e in await store.history("qa_agent", limit=2)] == [3.0, 2.0]
    with pytest.raises(NotFound):
        await store.history("nobody")


async def test_phase_moves_only_when_the_share_changes(store: FlagStore) -> None:
    """Changing the share starts a new phase of the counts; other changes keep the phase."""
    a = await store.update("support_agent", FlagChange(sample_rate=0.5), actor="alice")
    b = await store.update("support_agent", FlagChange(candidate_share=10), actor="alice")
    c = await store.update("support_agent", FlagChange(candidate_share=10), actor="alice")
    assert (a.phase, b.phase, c.phase) == (1, 2, 2)


async def test_pin_and_unpin_overrides(store: FlagStore) -> None:
    """Pinning adds overrides to those present; unpinning removes only the named units."""
    await store.update("support_agent", FlagChange(pin={"u1": "candidate", "u2": "baseline"}), actor="alice")
    flags = await store.update("support_agent", FlagChange(unpin=("u1",), pin={"u3": "candidate"}), actor="alice")
    assert flags.overrides == {"u2": "baseline", "u3": "candidate"}
    assert flags.splitter.assign("u3").variant == "candidate"


async def test_kill_stops_a_schedule(store: FlagStore) -> None:
    """Switching an agent off ends its rollout schedule; reviving does not restart it."""
    plan = RolloutPlan.start(RolloutRequest(steps=(5, 50), interval_s=60), now=0.0, actor="alice")
    started = await store.update("support_agent", FlagChange(candidate_share=5, rollout=plan), actor="alice")
    assert started.rollout == plan
    killed = await store.update("support_agent", FlagChange(enabled=False), actor="alice")
    assert killed.rollout is None and not killed.enabled
    revived = await store.update("support_agent", FlagChange(enabled=True), actor="alice")
    assert revived.rollout is None and revived.candidate_share == 5.0


async def test_staleness_is_small_while_in_sync(store: FlagStore) -> None:
    """A store in sync with its home reports a staleness of at most a few seconds."""
    assert 0.0 <= store.staleness() < 5.0
