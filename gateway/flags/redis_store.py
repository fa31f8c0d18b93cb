"""The flag store shared by every replica through Redis, read from a local copy.

Requests read ``self._flags`` only. A background task keeps it current:

* it subscribes to the change channel, where every write publishes the new flags, so a change made
  on any replica is applied everywhere well within a second;
* every ``resync_s`` it reloads the whole hash, which heals a message missed while disconnected,
  and re-seeds any agent that Redis has lost;
* a version only ever replaces an older one, so a late message cannot undo a newer change.

When Redis is unreachable the local copy stays as it was (the YAML seed, at first), the outage is
logged once and counted, ``staleness`` grows, and the loop retries with a short backoff until
Redis answers again. Writes are atomic (WATCH/MULTI on the hash): read, check the version, write
the new flags, append the audit entry and publish, or retry when another writer came first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping

import redis.asyncio as aioredis
import structlog
from pydantic import ValidationError
from redis.exceptions import RedisError, WatchError

from gateway.flags.errors import StoreUnavailable, VersionConflict
from gateway.flags.health import RedisHealth
from gateway.flags.model import AgentFlags, AuditEntry, FlagChange
from gateway.flags.redis_home import RedisKeys
from gateway.flags.store import AUDIT_KEEP, check_version, unknown_agent
from gateway.tasks import BackgroundTask

_log = structlog.get_logger("gateway.flags")

_SEED = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'entry', ARGV[3])
  return 1
end
return 0
"""
"""Seed an agent only when Redis has no flags for it, and record that in its audit log, atomically."""

_WRITE_ATTEMPTS = 20
_REDIS_DOWN = (RedisError, OSError)


class RedisFlagStore:
    """Flags in Redis, served from a local copy kept current by pub/sub and a periodic resync."""

    def __init__(
        self,
        client: aioredis.Redis,
        seeds: Mapping[str, AgentFlags],
        *,
        keys: RedisKeys | None = None,
        health: RedisHealth | None = None,
        resync_s: float = 5.0,
        start_wait_s: float = 2.0,
        retry_s: float = 0.5,
        clock: Callable[[], float] = time.time,
    ):
        self._client = client
        self._flags = dict(seeds)
        self._keys = keys or RedisKeys()
        self._health = health or RedisHealth()
        self._resync_s = resync_s
        self._start_wait_s = start_wait_s
        self._retry_s = retry_s
        self._clock = clock
        self._created = time.monotonic()
        self._last_sync: float | None = None
        self._synced = asyncio.Event()
        self._task = BackgroundTask("flags-sync", self._sync_forever)

    # -- the local copy (request path) ----------------------------------------------------------

    def get(self, agent: str) -> AgentFlags | None:
        return self._flags.get(agent)

    def snapshot(self) -> Mapping[str, AgentFlags]:
        return dict(self._flags)

    def staleness(self) -> float:
        return time.monotonic() - (self._last_sync if self._last_sync is not None else self._created)

    @property
    def synced_once(self) -> bool:
        """Whether the local copy has matched Redis at least once since start (not just the YAML seed)."""
        return self._last_sync is not None

    # -- writes and the audit log ---------------------------------------------------------------

    async def update(
        self, agent: str, change: FlagChange, *, actor: str, note: str = "", expect_version: int | None = None
    ) -> AgentFlags:
        if agent not in self._flags:
            raise unknown_agent(agent)
        try:
            new = await self._write(agent, change, actor=actor, note=note, expect_version=expect_version)
        except _REDIS_DOWN as exc:
            self._health.failed("flags_update", exc)
            raise StoreUnavailable(
                f"Redis did not answer ({type(exc).__name__}); the flags of {agent!r} are unchanged",
                code="store_unavailable",
            ) from exc
        self._health.ok("flags_update")
        self._accept(new)
        return new

    async def _write(
        self, agent: str, change: FlagChange, *, actor: str, note: str, expect_version: int | None
    ) -> AgentFlags:
        async with self._client.pipeline(transaction=True) as pipe:
            for _ in range(_WRITE_ATTEMPTS):
                try:
                    await pipe.watch(self._keys.flags)
                    # Redis may have lost the agent (flushed): continue from the local copy's version.
                    current = _parse(await pipe.hget(self._keys.flags, agent)) or self._flags[agent]
                    check_version(current, expect_version)
                    now = self._clock()
                    new = change.apply(current, now=now)
                    entry = AuditEntry(id="", at=now, agent=agent, actor=actor, note=note, old=current, new=new)
                    payload = new.model_dump_json()
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(self._keys.flags, agent, payload)
                    pipe.xadd(
                        self._keys.audit(agent), {"entry": entry.model_dump_json()}, maxlen=AUDIT_KEEP, approximate=True
                    )
                    pipe.publish(self._keys.channel, payload)
                    await pipe.execute()
                    return new
                except WatchError:
                    continue
        raise VersionConflict(f"flags of {agent!r} kept changing under this write; try again", code="write_contention")

    async def history(self, agent: str, *, limit: int = 50) -> list[AuditEntry]:
        if agent not in self._flags:
            raise unknown_agent(agent)
        try:
            rows = await self._client.xrevrange(self._keys.audit(agent), count=limit)
        except _REDIS_DOWN as exc:
            self._health.failed("audit", exc)
            raise StoreUnavailable(
                f"Redis did not answer ({type(exc).__name__}); the audit log is unavailable", code="store_unavailable"
            ) from exc
        self._health.ok("audit")
        entries = (_audit_entry(sid, fields) for sid, fields in rows or [] if fields is not None and sid is not None)
        return [entry for entry in entries if entry is not None]

    # -- lifecycle and the sync loop ------------------------------------------------------------

    async def start(self) -> None:
        """Start syncing; wait briefly for Redis, but serve the YAML seed if it does not answer."""
        self._task.start()
        try:
            await asyncio.wait_for(self._synced.wait(), timeout=self._start_wait_s)
        except TimeoutError:
            _log.warning("redis did not answer at start; serving the flags of the config until it does")

    async def close(self) -> None:
        await self._task.stop()
        await self._client.aclose()

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self._follow()
            except _REDIS_DOWN as exc:
                self._health.failed("flags_sync", exc)
            except Exception as exc:  # the loop must outlive any one bad round; logged and counted
                _log.exception("flag sync failed")
                self._health.failed("flags_sync", exc)
            await asyncio.sleep(self._retry_s)

    async def _follow(self) -> None:
        """Subscribe, load everything, then apply messages as they come and resync now and then."""
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            # Subscribe before loading, so a change between the two arrives as a message.
            await pubsub.subscribe(self._keys.channel)
            await self._resync()
            self._health.ok("flags_sync")
            next_resync = time.monotonic() + self._resync_s
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message.get("type") == "message":
                    self._accept_raw(message["data"])
                if time.monotonic() >= next_resync:
                    await self._resync()
                    next_resync = time.monotonic() + self._resync_s
                else:
                    self._last_sync = time.monotonic()  # the subscription is alive: nothing was missed
        finally:
            with contextlib.suppress(*_REDIS_DOWN):
                await pubsub.aclose()

    async def _resync(self) -> None:
        stored = await self._client.hgetall(self._keys.flags)
        missing = []
        for agent in self._flags:
            raw = stored.get(agent.encode())
            if raw is None:
                missing.append(agent)
            else:
                self._accept_raw(_bytes(raw))
        if missing:
            await self._seed(missing)
        self._last_sync = time.monotonic()
        self._synced.set()

    async def _seed(self, agents: list[str]) -> None:
        """Write the local copy of agents Redis does not know (the YAML seed at first start)."""
        for agent in agents:
            flags = self._flags[agent]
            entry = AuditEntry(
                id="", at=self._clock(), agent=agent, actor="config", note="seeded from the config", old=None, new=flags
            )
            keys_and_args = (self._keys.flags, self._keys.audit(agent))
            args = (agent, flags.model_dump_json(), entry.model_dump_json(), AUDIT_KEEP)
            await self._client.eval(_SEED, 2, *keys_and_args, *args)
        for raw in await self._client.hmget(self._keys.flags, agents):
            if raw is not None:
                self._accept_raw(_bytes(raw))

    def _accept_raw(self, raw: bytes) -> None:
        flags = _parse(raw)
        if flags is not None:
            self._accept(flags)

    def _accept(self, flags: AgentFlags) -> None:
        """Take ``flags`` into the local copy if it names a known agent and is newer than what is there."""
        current = self._flags.get(flags.agent)
        if current is not None and flags.version > current.version:
            self._flags[flags.agent] = flags


def _bytes(value: bytes | str) -> bytes:
    # The client is made without decode_responses, so Redis answers are bytes; the types allow str too.
    return value if isinstance(value, bytes) else value.encode()


def _audit_entry(sid: bytes | str, fields: Mapping[bytes | str, bytes | str]) -> AuditEntry | None:
    # One unreadable entry (hand-written, or from an incompatible version) must not hide the rest.
    try:
        entry = AuditEntry.model_validate_json(_bytes(fields[b"entry"]))
    except (KeyError, ValidationError) as exc:
        _log.error("unreadable audit entry in redis skipped", id=_bytes(sid).decode(), error=str(exc))
        return None
    return entry.model_copy(update={"id": _bytes(sid).decode()})


def _parse(raw: bytes | str | None) -> AgentFlags | None:
    if raw is None:
        return None
    try:
        return AgentFlags.model_validate_json(raw)
    except ValidationError as exc:
        _log.error("unreadable flags in redis ignored", error=str(exc))
        return None
