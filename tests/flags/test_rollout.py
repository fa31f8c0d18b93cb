"""The staged-rollout controller: steps on time, obeys the gate, stops on a kill, one replica per step."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from gateway.flags.counts import MemoryAssignmentCounter
from gateway.flags.model import FlagChange
from gateway.flags.redis_home import RedisKeys
from gateway.flags.redis_home import redis_client as new_client
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.rollout import GateDecision, MemoryStepLock, RedisStepLock, RolloutController, StepLock
from gateway.flags.schedule import RolloutRequest
from gateway.flags.service import FlagService
from gateway.flags.store import FlagStore, MemoryFlagStore, flags_from_config
from gateway.metrics.background import BackgroundMetrics
from tests.conftest import REDIS_URL
from tests.flags.helpers import eventually, flags_config


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class ScriptedGate:
    """A gate answering from a script and recording who asked."""

    def __init__(self, *decisions: GateDecision):
        self.decisions = list(decisions)
        self.asked: list[str] = []

    async def check(self, agent: str) -> GateDecision:
        self.asked.append(agent)
        return self.decisions.pop(0) if self.decisions else "proceed"


class FailingGate:
    async def check(self, agent: str) -> GateDecision:
        raise RuntimeError("analysis unavailable")


class GrantAll:
    """A lock that lets everyone in, to show the version check alone prevents a double step."""

    async def acquire(self, name: str, ttl_s: float) -> bool:
        return True


async def _start(store: FlagStore, clock: Clock, steps: tuple[float, ...] = (5, 25, 100)) -> None:
    service = FlagService(store, MemoryAssignmentCounter(), clock=clock)
    await service.start_rollout("support_agent", RolloutRequest(steps=steps, interval_s=1800), actor="alice")


def _share(store: FlagStore) -> float:
    flags = store.get("support_agent")
    assert flags is not None
    return flags.candidate_share


async def test_steps_are_taken_when_due_until_the_schedule_ends() -> None:
    """5 → 25 → 100 %, one step per interval, each audited; the schedule is gone after the last step."""
    clock, store = Clock(), MemoryFlagStore(flags_from_config(flags_config()))
    controller = RolloutController(store, MemoryStepLock(), clock=clock)
    await _start(store, clock)
    assert _share(store) == 5
    await controller.tick()
    assert _share(store) == 5  # not due yet
    clock.now += 1800
    await controller.tick()
    assert _share(store) == 25
    clock.now += 1800
    await controller.tick()
    flags = store.get("support_agent")
    assert flags is not None and flags.candidate_share == 100 and flags.rollout is None
    notes = [(e.actor, e.note) for e in await store.history("support_agent")]
    assert notes[:2] == [("rollout", "step 3/3: 100 %"), ("rollout", "step 2/3: 25 %")]


async def test_hold_waits_and_rollback_returns_to_zero() -> None:
    """A held step is not taken; a rollback sets the share to 0, ends the schedule, audited as rollout-gate."""
    clock, store = Clock(), MemoryFlagStore(flags_from_config(flags_config()))
    gate = ScriptedGate("hold", "rollback")
    controller = RolloutController(store, MemoryStepLock(clock), gate, clock=clock, lock_ttl_s=10)
    await _start(store, clock)
    clock.now += 1800
    await controller.tick()
    assert _share(store) == 5 and gate.asked == ["support_agent"]
    await controller.tick()
    assert len(gate.asked) == 1  # asked again only once the lock of this step expires
    clock.now += 11
    await controller.tick()
    flags = store.get("support_agent")
    assert flags is not None and (flags.candidate_share, flags.rollout) == (0, None)
    last = (await store.history("support_agent"))[0]
    assert last.actor == "rollout-gate" and "rolled back" in last.note


async def test_a_hold_is_recorded_once_in_the_schedule_and_cleared_by_the_step() -> None:
    """The first hold writes last_gate=hold and held_since into the plan (audited); later holds write nothing;
    the step taken afterwards clears held_since and records proceed."""
    clock, store = Clock(), MemoryFlagStore(flags_from_config(flags_config()))
    controller_gate = ScriptedGate("hold", "hold")
    controller = RolloutController(store, MemoryStepLock(clock), controller_gate, clock=clock)
    await _start(store, clock)
    clock.now += 1800
    held_at = clock.now
    await controller.tick()
    flags = store.get("support_agent")
    assert flags is not None and flags.rollout is not None
    assert (flags.rollout.last_gate, flags.rollout.held_since, flags.candidate_share) == ("hold", held_at, 5)
    assert (await store.history("support_agent"))[0].note == "step 2/3 held by the quality gate"
    version = flags.version
    await controller.tick()
    assert len(controller_gate.asked) == 1  # the recorded hold keeps the step's lock: asked again after it expires
    clock.now += 60
    await controller.tick()  # the second hold
    assert store.get("support_agent").version == version  # type: ignore[union-attr]
    assert store.get("support_agent").rollout.held_since == held_at  # type: ignore[union-attr]
    assert len(controller_gate.asked) == 2
    clock.now += 60
    await controller.tick()
    flags = store.get("support_agent")
    assert flags is not None and flags.rollout is not None and flags.candidate_share == 25
    assert (flags.rollout.last_gate, flags.rollout.held_since) == ("proceed", None)


async def test_a_failing_gate_holds() -> None:
    """A gate that raises does not advance the rollout, nor stop the controller; the failure is counted."""
    clock, store = Clock(), MemoryFlagStore(flags_from_config(flags_config()))
    registry = CollectorRegistry()
    await _start(store, clock)
    clock.now += 1800
    errors = BackgroundMetrics(registry)
    await RolloutController(store, MemoryStepLock(), FailingGate(), clock=clock, errors=errors).tick()
    assert _share(store) == 5
    assert registry.get_sample_value("genesis_background_errors_total", {"component": "rollout_gate"}) == 1


async def test_a_kill_stops_the_schedule() -> None:
    """After a kill no step is taken, even long after it was due, nor after a revive."""
    clock, store = Clock(), MemoryFlagStore(flags_from_config(flags_config()))
    controller = RolloutController(store, MemoryStepLock(), clock=clock)
    await _start(store, clock)
    await store.update("support_agent", FlagChange(enabled=False), actor="alice")
    await store.update("support_agent", FlagChange(enabled=True), actor="alice")
    clock.now += 10 * 1800
    await controller.tick()
    flags = store.get("support_agent")
    assert flags is not None and (flags.candidate_share, flags.rollout) == (5, None)


@pytest.mark.redis
@pytest.mark.parametrize("lock_kind", ["redis", "none"])
async def test_one_replica_takes_each_step(redis_client: aioredis.Redis, redis_prefix: str, lock_kind: str) -> None:
    """Two replicas on one Redis racing for each due step take it exactly once (lock, and version check)."""
    keys, clock = RedisKeys(redis_prefix), Clock()
    stores = [RedisFlagStore(new_client(REDIS_URL), flags_from_config(flags_config()), keys=keys) for _ in range(2)]
    for store in stores:
        await store.start()
    gate = ScriptedGate()
    locks: list[StepLock] = (
        [RedisStepLock(redis_client, keys=keys) for _ in stores] if lock_kind == "redis" else [GrantAll(), GrantAll()]
    )
    controllers = [RolloutController(s, lock, gate, clock=clock) for s, lock in zip(stores, locks, strict=True)]
    try:
        await _start(stores[0], clock, steps=(5, 25, 50, 100))
        for expected in (25, 50, 100):
            await eventually(lambda: all(s.get("support_agent").rollout for s in stores), what="plan on both")  # type: ignore[union-attr]
            versions = {s.get("support_agent").version for s in stores}  # type: ignore[union-attr]
            clock.now += 1800
            await asyncio.gather(*(c.tick() for c in controllers))
            await eventually(
                lambda e=expected: all(_share(s) == e for s in stores), what=f"both replicas at {expected} %"
            )
            assert {s.get("support_agent").version for s in stores} == {max(versions) + 1}  # type: ignore[union-attr]
        steps = [e for e in await stores[0].history("support_agent") if e.actor == "rollout"]
        assert [e.new.candidate_share for e in steps] == [100, 50, 25]
        if lock_kind == "redis":
            assert len(gate.asked) == 3  # the lock also keeps the gate to one question per step
    finally:
        for store in stores:
            await store.close()
