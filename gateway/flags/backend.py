"""Chooses the flag components' home once, for the app factory: memory (embedded) or Redis (replicas).

Both homes provide the same four parts: the flag store, the assignment counter, the rollout step
lock and the readiness probes. With Redis they share one client, which the store closes last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from gateway.flags.counts import AssignmentCounter, MemoryAssignmentCounter, RedisAssignmentCounter
from gateway.flags.health import RedisHealth
from gateway.flags.redis_home import RedisKeys, redis_client
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.rollout import MemoryStepLock, RedisStepLock, StepLock
from gateway.flags.store import FlagStore, MemoryFlagStore, flags_from_config
from gateway.metrics.background import BackgroundMetrics
from gateway.settings import GatewayConfig


@dataclass
class FlagHome:
    """The flag components of one gateway process."""

    store: FlagStore
    counter: AssignmentCounter
    lock: StepLock
    probes: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)


def open_flag_home(
    config: GatewayConfig,
    *,
    redis_url: str | None,
    prefix: str,
    health: RedisHealth,
    store: FlagStore | None = None,
    errors: BackgroundMetrics | None = None,
) -> FlagHome:
    """Redis when ``redis_url`` is set, else memory; an injected ``store`` comes with the in-memory counter and lock."""
    if store is not None or not redis_url:
        return FlagHome(
            store or MemoryFlagStore(flags_from_config(config)), MemoryAssignmentCounter(), MemoryStepLock()
        )
    client = redis_client(redis_url)
    keys = RedisKeys(prefix)
    redis_store = RedisFlagStore(client, flags_from_config(config), keys=keys, health=health)

    async def redis_synced() -> bool:
        # Ready once the local copy has matched Redis: a replica started during an outage serves the
        # YAML seed, which may contradict a kill recorded in Redis. A replica that synced before an
        # outage stays ready through it and keeps serving its last known flags.
        return redis_store.synced_once

    return FlagHome(
        store=redis_store,
        counter=RedisAssignmentCounter(client, keys=keys, health=health, errors=errors),
        lock=RedisStepLock(client, keys=keys, health=health),
        probes={"redis": redis_synced},
    )
