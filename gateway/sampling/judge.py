"""The LLM judge for online scoring: its model call through a gateway upstream, a rate limit, a budget.

The judge is off unless ``scoring.judge.enabled``. When on, a sample is judged only if the
judge's token bucket has a token and the agent's spend today (UTC) is under the daily budget;
otherwise — and when the judge fails — the sample gets the heuristic score, and the reason is
counted in ``genesis_scoring_errors_total``. Spend is kept in a ``SpendLedger`` and tokens in a
``JudgeRate``, each in memory for the embedded home and in Redis when several workers share them:
the budget as ``<prefix>judge:spend:<day>:<agent>`` (INCRBYFLOAT, two-day TTL), the rate as one
bucket ``<prefix>judge:rate`` refilled by a script on Redis's clock, so that ``requests_per_s`` is
the judge's rate whatever the number of workers.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Protocol, cast

import redis.asyncio as aioredis

from gateway.errors import GatewayError
from gateway.metrics.quality import ScoringMetrics
from gateway.settings import JudgeSettings, Price
from gateway.upstream.base import Upstream
from gateway.wire import read_completion
from scoring.composite import Composite
from scoring.scorers.judge import JudgeError, JudgeReply, JudgeRequest
from scoring.types import Sample, Score

_DAY_S = 86_400


def utc_day(now: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(now))


class SpendLedger(Protocol):
    """Judge spend per agent and UTC day."""

    async def spent(self, agent: str, day: str) -> float: ...

    async def add(self, agent: str, day: str, usd: float) -> None: ...


class MemorySpendLedger:
    """Spend of this process only (the embedded home)."""

    def __init__(self) -> None:
        self._spent: dict[tuple[str, str], float] = defaultdict(float)

    async def spent(self, agent: str, day: str) -> float:
        return self._spent.get((agent, day), 0.0)

    async def add(self, agent: str, day: str, usd: float) -> None:
        self._spent[(agent, day)] += usd


class RedisSpendLedger:
    """Spend shared by every worker."""

    def __init__(self, redis: aioredis.Redis, prefix: str):
        self._redis = redis
        self._prefix = prefix + "judge:spend:"

    async def spent(self, agent: str, day: str) -> float:
        value = await self._redis.get(f"{self._prefix}{day}:{agent}")
        return float(cast(bytes, value)) if value is not None else 0.0

    async def add(self, agent: str, day: str, usd: float) -> None:
        key = f"{self._prefix}{day}:{agent}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrbyfloat(key, usd)
            pipe.expire(key, 2 * _DAY_S)
            await pipe.execute()


class JudgeRate(Protocol):
    """Tokens for judge calls: ``take`` says at once whether this sample may be judged."""

    async def take(self) -> bool: ...


class TokenBucket:
    """``rate`` tokens per second up to ``burst``, in this process; ``take`` never waits."""

    def __init__(self, rate: float, burst: int):
        self._rate, self._burst = rate, float(burst)
        self._tokens, self._at = float(burst), time.monotonic()

    async def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = math.min(burst, (tonumber(state[1]) or burst) + (now - (tonumber(state[2]) or now)) * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return taken
"""


class RedisTokenBucket:
    """The same bucket shared by every worker: refilled and taken from in one script, on Redis's clock."""

    def __init__(self, redis: aioredis.Redis, prefix: str, rate: float, burst: int):
        self._key = prefix + "judge:rate"
        self._args = (repr(rate), str(burst))
        self._script = redis.register_script(_TAKE)

    async def take(self) -> bool:
        return bool(await self._script(keys=[self._key], args=list(self._args)))


class UpstreamJudgeModel:
    """The scoring library's ``JudgeModel`` served by one of the gateway's upstreams."""

    def __init__(self, upstream: Upstream, model: str, price: Price | None):
        self._upstream = upstream
        self._model = model
        self._input = price.input / 1e6 if price else 0.0
        self._output = price.output / 1e6 if price else 0.0

    async def complete(self, request: JudgeRequest) -> JudgeReply:
        payload = {
            "model": self._model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "random_seed": request.seed,
            "max_tokens": request.max_tokens,
            "stream": False,
        }
        reply = await self._upstream.complete(payload, request_id="judge-" + uuid.uuid4().hex)
        facts = read_completion(reply.body, want_text=True)
        cost = facts.input_tokens * self._input + facts.output_tokens * self._output
        return JudgeReply(
            text=facts.text or "", input_tokens=facts.input_tokens, output_tokens=facts.output_tokens, cost_usd=cost
        )


class JudgeRunner:
    """Judges a sample when the rate and the agent's budget allow; None means "use the heuristics"."""

    def __init__(
        self,
        composite: Composite,
        settings: JudgeSettings,
        ledger: SpendLedger,
        metrics: ScoringMetrics,
        rate: JudgeRate | None = None,
    ):
        self._composite = composite
        self._budget = settings.daily_budget_usd
        self._bucket = rate if rate is not None else TokenBucket(settings.requests_per_s, settings.burst)
        self._ledger = ledger
        self._metrics = metrics

    async def score(self, sample: Sample) -> Score | None:
        day = utc_day(time.time())
        if await self._ledger.spent(sample.agent, day) >= self._budget:
            self._metrics.errors.labels("judge_budget").inc()
            return None
        if not await self._bucket.take():
            self._metrics.errors.labels("judge_rate").inc()
            return None
        try:
            score = await self._composite.ascore(sample)
        except JudgeError as err:
            await self._charge(sample.agent, day, err.cost_usd)
            self._metrics.errors.labels("judge").inc()
            return None
        except GatewayError:  # the judge's upstream failed: heuristics only, counted
            self._metrics.errors.labels("judge").inc()
            return None
        await self._charge(sample.agent, day, score.judge_cost_usd)
        return score

    async def _charge(self, agent: str, day: str, usd: float) -> None:
        if usd > 0:
            self._metrics.judge_cost.labels(agent).inc(usd)
            await self._ledger.add(agent, day, usd)
