"""Helpers of the flag tests: a small config, bounded waiting, and a Redis server of the test's own."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from gateway.settings import GatewayConfig
from tests.support.servers import free_port, wait_for_port

ADMIN_TOKEN = "test-admin-token-rw"
READ_TOKEN = "test-admin-token-ro"
NAMED_TOKENS = f"alice:{ADMIN_TOKEN}:rw,grafana:{READ_TOKEN}:ro"


def config_dict(share: float = 30.0) -> dict[str, Any]:
    """Two agents on a fast built-in simulator: ``support_agent`` at ``share`` %, ``qa_agent`` at 50 %."""
    return {
        "upstreams": {"sim": {"kind": "simulated", "simulator": {"first_token_ms": 0, "tokens_per_second": 100_000}}},
        "agents": {
            "support_agent": {
                "candidate": {"model": "ft:sim:support", "upstream": "sim"},
                "baseline": {"model": "sim-base", "upstream": "sim"},
                "candidate_share": share,
                "sample_rate": 0,
            },
            "qa_agent": {
                "candidate": {"model": "ft:sim:qa", "upstream": "sim"},
                "baseline": {"model": "sim-base", "upstream": "sim"},
                "candidate_share": 50,
                "sample_rate": 0,
                "allow_force_variant": True,
            },
        },
    }


def flags_config(share: float = 30.0) -> GatewayConfig:
    """``config_dict`` validated."""
    return GatewayConfig.model_validate(config_dict(share))


def write_config(path: Any, share: float = 30.0) -> str:
    """Write ``config_dict`` as YAML to ``path`` and return the path as a string."""
    path.write_text(yaml.safe_dump(config_dict(share)), encoding="utf-8")
    return str(path)


async def eventually(check: Callable[[], bool], within: float = 5.0, what: str = "condition") -> None:
    """Poll ``check`` (bounded) until it holds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within} s")
        await asyncio.sleep(0.02)


def wait_until(check: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> float:
    """Poll ``check`` (bounded) from sync code; returns the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


class OwnRedis:
    """A ``redis-server`` process of one test, on its own port, that the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None, "redis-server is not installed (make test installs it)"
        args = [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._proc = subprocess.Popen(
            [*args, "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, timeout=10)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None


@contextlib.contextmanager
def own_redis() -> Iterator[OwnRedis]:
    """A started ``OwnRedis``, stopped after the test."""
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def poll(fetch: Callable[[], Any], check: Callable[[Any], bool], within: float = 5.0) -> Any:
    """Await ``fetch()`` until ``check`` holds for its result (bounded); returns that result."""
    deadline = time.monotonic() + within
    value = await fetch()
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"last value {value!r} did not pass within {within} s")
        await asyncio.sleep(0.02)
        value = await fetch()
    return value
