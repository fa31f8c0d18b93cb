"""The Redis flag store against a real Redis: seeding, propagation, resync, ordering, outages."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from gateway.flags.errors import StoreUnavailable
from gateway.flags.health import RedisHealth
from gateway.flags.model import AgentFlags, AuditEntry, FlagChange
from gateway.flags.redis_home import RedisKeys, redis_client
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.store import flags_from_config
from tests.conftest import REDIS_URL
from tests.flags.helpers import OwnRedis, eventually, flags_config, own_redis, poll

pytestmark = pytest.mark.redis


def _store(prefix: str, url: str = REDIS_URL, **kwargs: object) -> RedisFlagStore:
    return RedisFlagStore(
        redis_client(url),
        flags_from_config(flags_config()),
        keys=RedisKeys(prefix),
        **kwargs,  # type: ignore[arg-type]
    )


def _flags_json(**fields: object) -> str:
    base = flags_from_config(flags_config())["support_agent"]
    return base.model_copy(update=fields).model_dump_json()


async def test_config_seeds_only_agents_redis_does_not_know(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """Redis is the truth once written: a stored agent keeps its flags; a missing one is seeded and audited."""
    keys = RedisKeys(redis_prefix)
    await redis_client.hset(keys.flags, "support_agent", _flags_json(candidate_share=80, version=5))
    store = _store(redis_prefix)
    await store.start()
    try:
        support, qa = store.get("support_agent"), store.get("qa_agent")
        assert support is not None and (support.candidate_share, support.version) == (80.0, 5)
        assert qa is not None and qa.version == 1
        stored = AgentFlags.model_validate_json(await redis_client.hget(keys.flags, "qa_agent"))
        assert stored == qa
        seeded = await store.history("qa_agent")
        assert [(e.actor, e.old) for e in seeded] == [("config", None)]
        assert await store.history("support_agent") == []
    finally:
        await store.close()


async def test_a_change_reaches_another_replica_through_pubsub(redis_prefix: str, redis_client: aioredis.Redis) -> None:
    """A write on one store is applied by another store on the same Redis through pub/sub (resync is off)."""
    one, two = _store(redis_prefix, resync_s=3600), _store(redis_prefix, resync_s=3600)
    await one.start()
    await two.start()
    try:
        await one.update("support_agent", FlagChange(enabled=False), actor="alice")
        await eventually(lambda: not two.get("support_agent").enabled, what="kill seen by replica two")  # type: ignore[union-attr]
        assert two.get("support_agent").version == 2  # type: ignore[union-attr]
    finally:
        await one.close()
        await two.close()


async def test_resync_heals_a_missed_message(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """A change written to Redis without a message (missed while disconnected) is picked up by the resync."""
    store = _store(redis_prefix, resync_s=0.2)
    await store.start()
    try:
        await redis_client.hset(
            RedisKeys(redis_prefix).flags, "support_agent", _flags_json(candidate_share=3, version=9)
        )
        await eventually(lambda: store.get("support_agent").version == 9, what="resync")  # type: ignore[union-attr]
        assert store.get("support_agent").candidate_share == 3.0  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_versions_only_move_forward(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """A late message or a stored value with an older version never replaces a newer local copy."""
    keys = RedisKeys(redis_prefix)
    store = _store(redis_prefix, resync_s=0.1)
    await store.start()
    try:
        for share in (10, 20, 30):
            await store.update("support_agent", FlagChange(candidate_share=share), actor="alice")
        await redis_client.publish(keys.channel, _flags_json(candidate_share=99, version=2))
        await redis_client.hset(keys.flags, "support_agent", _flags_json(candidate_share=98, version=3))
        probe = _flags_json(candidate_share=1, version=1).replace("support_agent", "qa_agent")
        await redis_client.publish(keys.channel, probe)  # an older qa_agent: also ignored
        await redis_client.publish(keys.channel, _flags_json(candidate_share=42, version=7))
        await eventually(lambda: store.get("support_agent").version == 7, what="the newer message")  # type: ignore[union-attr]
        assert store.get("support_agent").candidate_share == 42.0  # type: ignore[union-attr]
        assert store.get("qa_agent").version == 1  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_an_agent_lost_by_redis_is_reseeded_from_the_local_copy(
    redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """If Redis loses an agent's flags, the resync writes back the local copy, version included."""
    keys = RedisKeys(redis_prefix)
    store = _store(redis_prefix, resync_s=0.1)
    await store.start()
    try:
        await store.update("support_agent", FlagChange(candidate_share=12), actor="alice")
        await redis_client.hdel(keys.flags, "support_agent")

        async def stored_version() -> int:
            raw = await redis_client.hget(keys.flags, "support_agent")
            return 0 if raw is None else AgentFlags.model_validate_json(raw).version

        assert await poll(stored_version, lambda v: v == 2) == 2
        nxt = await store.update("support_agent", FlagChange(candidate_share=13), actor="alice")
        assert nxt.version == 3
    finally:
        await store.close()


async def test_audit_entries_are_json_in_a_capped_stream(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """The audit log is a Redis stream whose entries hold the whole record as JSON."""
    store = _store(redis_prefix)
    await store.start()
    try:
        await store.update("qa_agent", FlagChange(sample_rate=0.3), actor="alice", note="more samples")
        rows = await redis_client.xrevrange(RedisKeys(redis_prefix).audit("qa_agent"), count=1)
        entry = AuditEntry.model_validate(json.loads(rows[0][1][b"entry"]) | {"id": "x"})
        assert (entry.actor, entry.note, entry.new.sample_rate) == ("alice", "more samples", 0.3)
    finally:
        await store.close()


async def test_redis_down_at_start_serves_the_seed_and_catches_up() -> None:
    """With Redis down the store serves the config, counts errors, goes stale; it syncs once Redis starts."""
    errors: list[str] = []
    server = OwnRedis()  # not started yet
    store = _store("test:down:", url=server.url, start_wait_s=0.2, retry_s=0.05, health=RedisHealth(errors.append))
    await store.start()
    try:
        assert store.get("support_agent").candidate_share == 30.0  # type: ignore[union-attr]
        assert not store.synced_once
        await eventually(lambda: len(errors) >= 2 and store.staleness() > 0.2, what="errors counted, copy stale")
        with pytest.raises(StoreUnavailable):
            await store.update("support_agent", FlagChange(candidate_share=5), actor="alice")
        assert store.get("support_agent").version == 1  # type: ignore[union-attr]
        server.start()
        await eventually(lambda: store.synced_once, within=10, what="first sync after Redis started")
        assert store.staleness() < 2.0
        new = await store.update("support_agent", FlagChange(candidate_share=5), actor="alice")
        assert new.version == 2
    finally:
        await store.close()
        server.stop()


async def test_outage_keeps_the_last_flags_and_recovers() -> None:
    """When Redis stops, the last flags stay served; after it restarts (empty) the store re-seeds and syncs."""
    with own_redis() as server:
        one = _store("test:outage:", url=server.url, retry_s=0.05, resync_s=0.2)
        two = _store("test:outage:", url=server.url, retry_s=0.05, resync_s=0.2)
        await one.start()
        await two.start()
        try:
            await one.update("support_agent", FlagChange(candidate_share=70), actor="alice")
            await eventually(lambda: two.get("support_agent").candidate_share == 70.0, what="propagation")  # type: ignore[union-attr]
            server.stop()
            await eventually(lambda: two.staleness() > 0.5, what="staleness grows")
            assert two.get("support_agent").candidate_share == 70.0  # type: ignore[union-attr]
            server.start()  # a Redis without persistence comes back empty
            await eventually(lambda: two.staleness() < 1.0, within=10, what="resynced")
            await one.update("support_agent", FlagChange(candidate_share=75), actor="alice")
            await eventually(lambda: two.get("support_agent").candidate_share == 75.0, what="change after restart")  # type: ignore[union-attr]
            assert two.get("support_agent").version == 3  # type: ignore[union-attr]
        finally:
            await one.close()
            await two.close()


async def test_an_unreadable_audit_entry_is_skipped(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """A bad entry in the audit stream (not JSON of an entry, or no entry field) is left out; the rest is listed."""
    store = _store(redis_prefix)
    await store.start()
    try:
        await store.update("qa_agent", FlagChange(sample_rate=0.3), actor="alice", note="first")
        stream = RedisKeys(redis_prefix).audit("qa_agent")
        await redis_client.xadd(stream, {"entry": b'{"not": "an entry"}'})
        await redis_client.xadd(stream, {"other": b"x"})
        await store.update("qa_agent", FlagChange(sample_rate=0.4), actor="bob", note="second")
        assert [e.note for e in await store.history("qa_agent")][:2] == ["second", "first"]
    finally:
        await store.close()
