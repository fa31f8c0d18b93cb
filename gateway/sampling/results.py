"""Where scored samples are kept: the A/B moments and the last scored samples, in memory or Redis.

``ScoreStore`` extends the A/B analysis's ``ResultStore`` (which only reads ``stats``) with the
writes scoring needs. Recording is idempotent by request id, so an entry delivered twice (a worker
died before acknowledging it) is counted once: the Redis home does the duplicate check, the moment
increments and the recent-sample insert in one Lua script, atomically, so a crash can never leave
a sample marked as recorded but not counted.

Moments per agent and variant cover ``quality``, ``relevance``, ``format``, ``specificity``,
``overall``, ``pass`` (1 pass, 0 fail) and ``feedback`` (user ratings on 0–1: up 1, down 0,
stars (n-1)/4). Redis layout, under the configured prefix:

* ``ab:<agent>`` hash, fields ``<variant>:<dimension>:count|total|total_sq`` (HINCRBYFLOAT);
* ``recent:<agent>`` sorted set of scored samples (JSON) by time, capped at ``keep_last`` and
  trimmed to the retention window on every write, expiring after it when writes stop;
  ``comments:<agent>`` likewise for redacted feedback comments;
* ``scored:<request id>`` (scored or skipped) / ``feedback:<request id>`` duplicate guards with the
  retention as TTL.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from typing import Protocol, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gateway.experiments.moments import PASS, ArmStats, Moments
from gateway.experiments.results import ResultStore
from gateway.flags.errors import StoreUnavailable
from gateway.sampling.recent import RecentIds
from gateway.sampling.record import FeedbackComment, ScoredSample, comment_decoder, record_encoder, scored_decoder
from gateway.settings import VARIANTS, ScoringSettings

FEEDBACK = "feedback"
"""The pseudo-dimension of user ratings, on 0–1."""
_FIELDS = ("count", "total", "total_sq")


class ScoreStore(ResultStore, Protocol):
    """Per agent and variant results: written by scoring and feedback, read by the A/B analysis."""

    async def record(self, scored: ScoredSample) -> bool:
        """Add a scored sample once per request id; False when it was recorded before."""
        ...

    async def record_skipped(self, request_id: str) -> bool:
        """Note a sample that is counted but not scored (truncated, failed, empty), once per request id;
        False when that id was recorded or skipped before. Shares the scored samples' duplicate guard."""
        ...

    async def record_feedback(
        self, request_id: str, agent: str, variant: str, value: float, comment: FeedbackComment | None = None
    ) -> bool:
        """Add a user rating (0–1) and its comment once per request id; False when rated before."""
        ...

    async def comments(self, agent: str, *, limit: int | None = None) -> list[FeedbackComment]:
        """The agent's last feedback comments within the retention time, newest first."""
        ...

    async def recent(self, agent: str, *, limit: int | None = None) -> list[ScoredSample]:
        """The agent's last scored samples within the retention time, newest first."""
        ...


def increments(scored: ScoredSample) -> dict[str, float]:
    """The moment values one scored sample adds, by dimension (``pass`` included)."""
    values = scored.values()
    values[PASS] = 1.0 if scored.passed else 0.0
    return values


def _arm(agent: str, variant: str, dims: dict[str, Moments]) -> ArmStats | None:
    if variant not in VARIANTS:
        return None
    return ArmStats(agent=agent, variant=variant, dimensions=dims)


class MemoryScoreStore:
    """The embedded home: results of this process only, lost on restart."""

    def __init__(self, settings: ScoringSettings):
        self._retention = settings.retention_s
        self._moments: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(dict)
        self._recent: dict[str, deque[ScoredSample]] = defaultdict(lambda: deque(maxlen=settings.keep_last))
        self._comments: dict[str, deque[FeedbackComment]] = defaultdict(lambda: deque(maxlen=settings.keep_last))
        # Duplicate guards: a request id is scored and rated once. Capped like the request index:
        # an id pushed out by newer ones could be counted again, an id never is within the cap.
        self._scored = RecentIds(settings.retention_s, settings.index_max_entries)
        self._rated = RecentIds(settings.retention_s, settings.index_max_entries)

    def _add(self, agent: str, variant: str, values: dict[str, float]) -> None:
        arm = self._moments[(agent, variant)]
        for dimension, value in values.items():
            moments = arm.setdefault(dimension, [0.0, 0.0, 0.0])
            moments[0] += 1
            moments[1] += value
            moments[2] += value * value

    async def record(self, scored: ScoredSample) -> bool:
        if not self._scored.add(scored.record.request_id):
            return False
        self._add(scored.record.agent, scored.record.variant, increments(scored))
        self._recent[scored.record.agent].appendleft(scored)
        return True

    async def record_skipped(self, request_id: str) -> bool:
        return self._scored.add(request_id)

    async def record_feedback(
        self, request_id: str, agent: str, variant: str, value: float, comment: FeedbackComment | None = None
    ) -> bool:
        if not self._rated.add(request_id):
            return False
        self._add(agent, variant, {FEEDBACK: value})
        if comment is not None:
            self._comments[agent].appendleft(comment)
        return True

    async def recent(self, agent: str, *, limit: int | None = None) -> list[ScoredSample]:
        oldest = time.time() - self._retention
        fresh = [s for s in self._recent.get(agent, ()) if s.scored_at >= oldest]
        return fresh if limit is None else fresh[:limit]

    async def comments(self, agent: str, *, limit: int | None = None) -> list[FeedbackComment]:
        oldest = time.time() - self._retention
        fresh = [c for c in self._comments.get(agent, ()) if c.at >= oldest]
        return fresh if limit is None else fresh[:limit]

    async def stats(self, agent: str) -> dict[str, ArmStats]:
        arms: dict[str, ArmStats] = {}
        for (name, variant), dims in self._moments.items():
            if name != agent:
                continue
            moments = {d: Moments(count=int(m[0]), total=m[1], total_sq=m[2]) for d, m in dims.items()}
            arm = _arm(agent, variant, moments)
            if arm is not None:
                arms[variant] = arm
        return arms


# KEYS: guard, moments hash, recent zset (or "" for none).
# ARGV: guard TTL (s), now, retention (s), keep_last, member JSON ("" for none), then field/delta pairs.
_RECORD_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
for i = 6, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[2], ARGV[i], ARGV[i + 1]) end
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(ARGV[2]) - tonumber(ARGV[3]))
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
  redis.call('EXPIRE', KEYS[3], ARGV[1])
end
return 1
"""


class RedisScoreStore:
    """The production home: shared by every worker and replica; see the module docstring for keys."""

    def __init__(self, redis: aioredis.Redis, settings: ScoringSettings):
        self._redis = redis
        self._prefix = settings.key_prefix
        self._retention = settings.retention_s
        self._ttl = max(1, math.ceil(settings.retention_s))
        self._keep = settings.keep_last
        self._script = redis.register_script(_RECORD_LUA)

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def _run(self, keys: list[str], member: bytes, now: float, values: dict[str, float], variant: str) -> bool:
        args: list[str | bytes | float | int] = [self._ttl, now, self._retention, self._keep, member]
        for dimension, value in values.items():
            base = f"{variant}:{dimension}:"
            args += [base + "count", 1, base + "total", repr(value), base + "total_sq", repr(value * value)]
        return bool(await self._script(keys=keys, args=args))

    async def record(self, scored: ScoredSample) -> bool:
        rec = scored.record
        keys = [self._key("scored", rec.request_id), self._key("ab", rec.agent), self._key("recent", rec.agent)]
        return await self._run(keys, record_encoder.encode(scored), scored.scored_at, increments(scored), rec.variant)

    async def record_skipped(self, request_id: str) -> bool:
        return bool(await self._redis.set(self._key("scored", request_id), b"1", nx=True, ex=self._ttl))

    async def record_feedback(
        self, request_id: str, agent: str, variant: str, value: float, comment: FeedbackComment | None = None
    ) -> bool:
        keys = [self._key("feedback", request_id), self._key("ab", agent), self._key("comments", agent)]
        member = record_encoder.encode(comment) if comment is not None else b""
        now = comment.at if comment is not None else time.time()
        return await self._run(keys, member, now, {FEEDBACK: value}, variant)

    async def _newest(self, key: str, limit: int | None) -> list[bytes]:
        oldest = time.time() - self._retention
        if limit is None:
            raw = await self._redis.zrevrangebyscore(key, "+inf", oldest)
        else:
            raw = await self._redis.zrevrangebyscore(key, "+inf", oldest, start=0, num=limit)
        return cast(list[bytes], raw)

    async def recent(self, agent: str, *, limit: int | None = None) -> list[ScoredSample]:
        return [scored_decoder.decode(item) for item in await self._newest(self._key("recent", agent), limit)]

    async def comments(self, agent: str, *, limit: int | None = None) -> list[FeedbackComment]:
        return [comment_decoder.decode(item) for item in await self._newest(self._key("comments", agent), limit)]

    async def stats(self, agent: str) -> dict[str, ArmStats]:
        try:
            raw = cast(dict[bytes, bytes], await self._redis.hgetall(self._key("ab", agent)))
        except (RedisError, OSError, TimeoutError) as exc:  # the A/B API answers 503 for it, not 500
            raise StoreUnavailable(
                f"Redis did not answer ({type(exc).__name__}); the A/B results are unavailable",
                code="store_unavailable",
            ) from exc
        table: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
        for field, value in raw.items():
            variant, dimension, kind = field.decode().rsplit(":", 2)
            if kind in _FIELDS:
                table[variant][dimension][kind] = float(value)
        arms: dict[str, ArmStats] = {}
        for variant, dims in table.items():
            moments = {
                d: Moments(count=round(m.get("count", 0.0)), total=m.get("total", 0.0), total_sq=m.get("total_sq", 0.0))
                for d, m in dims.items()
            }
            arm = _arm(agent, variant, moments)
            if arm is not None:
                arms[variant] = arm
        return arms
