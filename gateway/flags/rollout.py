"""The staged-rollout controller: takes each due step of an agent's schedule, on exactly one replica.

Every replica runs a controller that looks at its local copy of the flags once a second. When a
step is due, the replicas race for a lock named after the agent *and its flags' version* (Redis
``SET NX PX``, with an expiry so a crashed winner does not block the schedule). The winner asks
the quality gate, then writes the step with ``expect_version`` — so even a winner whose lock
expired cannot take a step twice: the write fails once the version has moved.

The gate (``RolloutGate``) is the hook for the A/B analysis: "proceed" takes the step, "hold"
leaves it due (asked again when the lock expires), "rollback" sets the share to 0 and ends the
schedule, recorded in the audit log with actor ``rollout-gate``. The first hold of a step is
written into the schedule (``last_gate``, ``held_since``), so the admin API and ``flags show`` say
why a due step waits; later holds of the same step write nothing. A kill ends the schedule too
(see ``FlagChange``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Literal, Protocol

import redis.asyncio as aioredis
import structlog
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError

from gateway.flags.errors import StoreUnavailable, VersionConflict
from gateway.flags.health import RedisHealth
from gateway.flags.model import AgentFlags, FlagChange
from gateway.flags.redis_home import RedisKeys
from gateway.flags.schedule import RolloutPlan
from gateway.flags.store import FlagStore
from gateway.metrics.background import BackgroundMetrics
from gateway.tasks import BackgroundTask

_log = structlog.get_logger("gateway.flags")

GateDecision = Literal["proceed", "hold", "rollback"]
CONTROLLER_ACTOR = "rollout"
GATE_ACTOR = "rollout-gate"


class RolloutGate(Protocol):
    """Decides, before each step of a schedule, whether the rollout may go on."""

    async def check(self, agent: str) -> GateDecision:
        """``proceed`` takes the step, ``hold`` waits, ``rollback`` sets the share to 0 and ends the schedule."""
        ...


class AlwaysProceed:
    """The gate until the A/B analysis provides one: every step goes ahead on time."""

    async def check(self, agent: str) -> GateDecision:
        return "proceed"


class StepLock(Protocol):
    """A lock with an expiry, taken by one replica per rollout step."""

    async def acquire(self, name: str, ttl_s: float) -> bool:
        """True for the one caller that got ``name`` until it expires; False for the others (and on errors)."""
        ...


class MemoryStepLock:
    """Locks of this process: the embedded default (one replica)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._until: dict[str, float] = {}

    async def acquire(self, name: str, ttl_s: float) -> bool:
        now = self._clock()
        self._until = {n: t for n, t in self._until.items() if t > now}
        if name in self._until:
            return False
        self._until[name] = now + ttl_s
        return True


class RedisStepLock:
    """``SET {prefix}lock:{name} <replica> NX PX ttl``: shared by every replica."""

    def __init__(self, client: aioredis.Redis, *, keys: RedisKeys | None = None, health: RedisHealth | None = None):
        self._client = client
        self._keys = keys or RedisKeys()
        self._health = health or RedisHealth()
        self._owner = uuid.uuid4().hex

    async def acquire(self, name: str, ttl_s: float) -> bool:
        try:
            got = await self._client.set(self._keys.lock(name), self._owner, nx=True, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._health.failed("rollout", exc)
            return False
        self._health.ok("rollout")
        return bool(got)


class RolloutController:
    """Carries out every agent's schedule; a background service of each replica."""

    def __init__(
        self,
        store: FlagStore,
        lock: StepLock,
        gate: RolloutGate | None = None,
        *,
        clock: Callable[[], float] = time.time,
        tick_s: float = 1.0,
        lock_ttl_s: float = 10.0,
        errors: BackgroundMetrics | None = None,
    ):
        self._errors = errors or BackgroundMetrics(CollectorRegistry())
        self._store = store
        self._lock = lock
        self._gate = gate or AlwaysProceed()
        self._clock = clock
        self._tick_s = tick_s
        self._lock_ttl_s = lock_ttl_s
        self._task = BackgroundTask("rollout-controller", self._run)

    async def tick(self) -> None:
        """Take every step that is due now."""
        for flags in self._store.snapshot().values():
            plan = flags.rollout
            if plan is not None and flags.enabled and plan.due(self._clock()):
                await self._step(flags, plan)

    async def _step(self, flags: AgentFlags, plan: RolloutPlan) -> None:
        # The version in the name: once a step is written every replica races for a new lock.
        if not await self._lock.acquire(f"rollout:{flags.agent}:{flags.version}", self._lock_ttl_s):
            return
        decision = await self._ask_gate(flags.agent)
        if decision == "hold":
            _log.info("rollout step held by the gate", agent=flags.agent, share=plan.share)
            if plan.held_since is None:  # written once per hold, so `flags show` can say why the step waits
                note = f"step {plan.step + 2}/{len(plan.steps)} held by the quality gate"
                if await self._write(flags, FlagChange(rollout=plan.held(self._clock())), CONTROLLER_ACTOR, note):
                    # The write moved the version: hold its lock too, so the gate is asked again only
                    # once this one expires, as for any hold.
                    await self._lock.acquire(f"rollout:{flags.agent}:{flags.version + 1}", self._lock_ttl_s)
            return
        if decision == "rollback":
            change, actor = FlagChange(candidate_share=0, stop_rollout=True), GATE_ACTOR
            note = f"quality gate: rolled back from {plan.share:g} %"
        else:
            share = plan.next_share()
            change = FlagChange(candidate_share=share, rollout=plan.advanced(self._clock()))
            actor, note = CONTROLLER_ACTOR, f"step {plan.step + 2}/{len(plan.steps)}: {share:g} %"
        if await self._write(flags, change, actor, note):
            _log.info("rollout step taken", agent=flags.agent, decision=decision, note=note)

    async def _write(self, flags: AgentFlags, change: FlagChange, actor: str, note: str) -> bool:
        try:
            await self._store.update(flags.agent, change, actor=actor, note=note, expect_version=flags.version)
        except (VersionConflict, StoreUnavailable) as err:
            _log.info("rollout step not taken", agent=flags.agent, reason=err.message)
            return False
        return True

    async def _ask_gate(self, agent: str) -> GateDecision:
        try:
            return await self._gate.check(agent)
        except Exception:  # a failing gate must not advance a rollout nor stop the controller
            _log.exception("rollout gate failed; holding the step", agent=agent)
            self._errors.failed("rollout_gate")
            return "hold"

    async def start(self) -> None:
        self._task.start()

    async def close(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.tick()
            except Exception:  # a worker loop: log and try again next tick
                _log.exception("rollout controller tick failed")
                self._errors.failed("rollout_controller")
