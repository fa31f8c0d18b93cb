"""Two gateway processes on one Redis: a change made on one is served by the other; Redis outages are survived."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REDIS_URL
from tests.flags.helpers import ADMIN_TOKEN, own_redis, wait_until, write_config
from tests.support.servers import free_port, run_process

pytestmark = [pytest.mark.redis, pytest.mark.slow]


class Replica:
    """One gateway process, called over HTTP."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json", "authorization": f"Bearer {ADMIN_TOKEN}"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def variant(self, user: str) -> str:
        """The variant serving one chat request of ``user`` to support_agent."""
        body = {"model": "support_agent", "messages": [{"role": "user", "content": "where is my order?"}]}
        request = urllib.request.Request(
            self.url + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"content-type": "application/json", "x-genesis-user": user},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            return str(response.headers["x-genesis-variant"])

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=5) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            return False

    def metric(self, name: str, **labels: str) -> float:
        with urllib.request.urlopen(self.url + "/metrics", timeout=5) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return float(sample.value)
        return 0.0


_PROPAGATION_S = 5.0
"""A bound on polling, not a latency claim: pub/sub takes milliseconds, but these are two processes on a busy CI box."""


@contextlib.contextmanager
def replicas(config: str, redis_url: str, prefix: str) -> Iterator[tuple[Replica, Replica]]:
    """Two ``genesis-gateway serve`` processes sharing ``redis_url`` under ``prefix``."""
    env = {
        "GATEWAY_REDIS_URL": redis_url,
        "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "GATEWAY_REDIS_PREFIX": prefix,
        "GATEWAY_LOG_LEVEL": "warning",  # the processes' output goes to a pipe nobody reads while they run
    }
    ports = free_port(), free_port()
    with contextlib.ExitStack() as stack:
        for port in ports:
            args = ["-m", "gateway", "serve", "--config", config, "--port", str(port)]
            stack.enter_context(run_process(args, port=port, env=env))
        one, two = Replica(ports[0]), Replica(ports[1])
        wait_until(lambda: one.ready() and two.ready(), timeout=15, what="both replicas ready")
        yield one, two


def test_a_change_on_one_replica_is_served_by_the_other(
    tmp_path: Path, redis_client: aioredis.Redis, redis_prefix: str
) -> None:
    """Kill, revive and a new share made through replica one's admin API reach replica two's requests."""
    config = write_config(tmp_path / "gateway.yaml", share=0)
    with replicas(config, REDIS_URL, redis_prefix) as (one, two):
        assert two.variant("user-7") == "baseline"
        status, flags = one.call("PATCH", "/admin/agents/support_agent", {"candidate_share": 100})
        assert status == 200 and flags["version"] == 2
        wait_until(
            lambda: two.variant("user-7") == "candidate",
            timeout=_PROPAGATION_S,
            what="share 100 % served by replica two",
        )
        assert one.call("POST", "/admin/agents/support_agent/kill")[0] == 200
        wait_until(
            lambda: two.variant("user-7") == "baseline", timeout=_PROPAGATION_S, what="kill served by replica two"
        )
        status, seen = two.call("GET", "/admin/agents/support_agent")
        assert status == 200 and (seen["version"], seen["enabled"]) == (3, False)
        _, log = two.call("GET", "/admin/agents/support_agent/history")
        assert [e["actor"] for e in log["data"]] == ["admin", "admin", "config"]


def test_both_replicas_survive_a_redis_outage_and_catch_up(tmp_path: Path) -> None:
    """With Redis stopped both keep serving on their last flags; after it restarts a change propagates again."""
    config = write_config(tmp_path / "gateway.yaml", share=0)
    with own_redis() as server, replicas(config, server.url, "genesis:") as (one, two):
        one.call("PATCH", "/admin/agents/support_agent", {"candidate_share": 100})
        wait_until(
            lambda: two.variant("user-7") == "candidate", timeout=_PROPAGATION_S, what="propagation before the outage"
        )
        server.stop()
        for replica in (one, two):
            assert [replica.variant(f"user-{i}") for i in range(5)] == ["candidate"] * 5
        status, answer = one.call("PATCH", "/admin/agents/support_agent", {"candidate_share": 0})
        assert status == 503 and answer["object"] == "error"
        for replica in (one, two):
            wait_until(lambda r=replica: r.metric("genesis_flags_staleness_seconds") > 1.0, what="staleness shown")
            assert replica.metric("genesis_redis_errors_total", component="flags_sync") > 0
            assert replica.variant("user-8") == "candidate"
        server.start()  # no persistence: Redis comes back empty and is re-seeded from the replicas' copies
        wait_until(lambda: two.metric("genesis_flags_staleness_seconds") < 1.0, timeout=15, what="resynced")
        status, flags = one.call("POST", "/admin/agents/support_agent/kill")
        assert status == 200 and flags["version"] == 3
        wait_until(lambda: two.variant("user-7") == "baseline", timeout=_PROPAGATION_S, what="change after the restart")
