"""The demo's traffic generator: its requests are held until done, and slow or dead servers are survived."""

from __future__ import annotations

import asyncio

import pytest

from gateway.demo import TrafficGenerator, demo_log_level
from gateway.settings import Settings
from tests.flags.helpers import eventually


async def test_requests_are_held_time_out_and_end_on_close() -> None:
    """Against a server that never answers: requests stay referenced, time out without escaping, end on close."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    escaped: list[object] = []
    loop.set_exception_handler(lambda _loop, context: escaped.append(context.get("exception")))
    generator = TrafficGenerator(f"http://127.0.0.1:{port}", rate_per_s=50, timeout_s=0.2)
    await generator.start()
    try:
        await eventually(lambda: len(generator.in_flight) >= 2, what="requests under way")
        await eventually(lambda: generator.failed >= 2, what="timed-out requests counted")
    finally:
        await generator.close()
        for writer in held:
            writer.close()
        server.close()
        loop.set_exception_handler(None)
    assert not generator.in_flight
    assert generator.sent == 0
    assert escaped == []


def test_demo_logs_warnings_unless_gateway_log_level_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's own traffic stays out of the terminal, but GATEWAY_LOG_LEVEL is obeyed when given."""
    monkeypatch.delenv("GATEWAY_LOG_LEVEL", raising=False)
    assert demo_log_level(Settings()) == "warning"
    monkeypatch.setenv("GATEWAY_LOG_LEVEL", "info")
    assert demo_log_level(Settings()) == "info"
