"""The demo's traffic generator: its requests are held until done, and slow or dead servers are survived."""

from __future__ import annotations

import asyncio

from gateway.demo import TrafficGenerator
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
