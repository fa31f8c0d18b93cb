"""The factory's choice of home: Redis when a URL is configured (settings or YAML), memory otherwise."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gateway.app import build_state
from gateway.flags.counts import MemoryAssignmentCounter, RedisAssignmentCounter
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.store import MemoryFlagStore, flags_from_config
from gateway.settings import Settings
from tests.conftest import REDIS_URL
from tests.flags.helpers import flags_config


def test_memory_without_a_redis_url() -> None:
    """No URL anywhere: the memory store and counter, and no Redis readiness probe."""
    state = build_state(Settings(), flags_config(), registry=CollectorRegistry(), env={})
    assert isinstance(state.flags, MemoryFlagStore) and isinstance(state.assignments, MemoryAssignmentCounter)
    assert "redis" not in state.probes


def test_redis_from_the_settings_or_the_yaml() -> None:
    """GATEWAY_REDIS_URL or the config's redis_url selects the Redis store, counter and probe."""
    from_settings = build_state(Settings(redis_url=REDIS_URL), flags_config(), registry=CollectorRegistry(), env={})
    config = flags_config().model_copy(update={"redis_url": REDIS_URL})
    from_yaml = build_state(Settings(), config, registry=CollectorRegistry(), env={})
    for state in (from_settings, from_yaml):
        assert isinstance(state.flags, RedisFlagStore) and isinstance(state.assignments, RedisAssignmentCounter)
        assert "redis" in state.probes


def test_an_injected_store_is_used_as_given() -> None:
    """A store passed to build_state is the one requests read."""
    store = MemoryFlagStore(flags_from_config(flags_config()))
    state = build_state(Settings(), flags_config(), flags=store, registry=CollectorRegistry(), env={})
    assert state.flags is store
