"""Where the flag components keep their data in Redis, and the client they share.

Layout, under a prefix (``GATEWAY_REDIS_PREFIX``, default ``genesis:``; tests use one prefix each, and
several gateways may share one Redis database under different prefixes):

    {prefix}flags                   hash  agent -> AgentFlags JSON (seeded from the YAML only when absent)
    {prefix}flags:changes           pub/sub channel; each message is the new AgentFlags JSON
    {prefix}audit:{agent}           stream of audit entries (field ``entry``: AuditEntry JSON), MAXLEN ~ 1000
    {prefix}counts:{agent}:{phase}  hash  variant -> assignments counted by hash or random in that phase
    {prefix}lock:{name}             string with expiry (SET NX PX): one replica carries out a rollout step
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

DEFAULT_PREFIX = "genesis:"


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """The key names under one prefix."""

    prefix: str = DEFAULT_PREFIX

    @property
    def flags(self) -> str:
        return f"{self.prefix}flags"

    @property
    def channel(self) -> str:
        return f"{self.prefix}flags:changes"

    def audit(self, agent: str) -> str:
        return f"{self.prefix}audit:{agent}"

    def counts(self, agent: str, phase: int) -> str:
        return f"{self.prefix}counts:{agent}:{phase}"

    def lock(self, name: str) -> str:
        return f"{self.prefix}lock:{name}"


def redis_client(url: str) -> aioredis.Redis:
    """A client that fails fast: background loops retry on their own schedule, admin calls answer 503.

    redis-py's default retries (10, backing off up to 10 s) would hold an admin request or a sync
    loop for a minute while Redis is down.
    """
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=2.0,
        health_check_interval=5,
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), retries=1),
    )
