"""Time to first byte of a streamed answer, measured one request at a time over one connection.

The client is aiohttp in the harness; its own cost is the same for every target, so the
difference between the gateway and the upstream itself is what the gateway adds before the first
event reaches the client.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import aiohttp


async def _probe(url: str, body: bytes, headers: dict[str, str], count: int) -> list[float]:
    times: list[float] = []
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        for i in range(count + 5):
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as resp:
                first = await resp.content.readany()
                elapsed = time.perf_counter() - started
                if resp.status != 200 or not first.startswith(b"data:"):
                    raise RuntimeError(f"{url}: status {resp.status}, first bytes {first[:80]!r}")
                await resp.read()
            if i >= 5:  # the first few warm the connection and the server's caches
                times.append(elapsed)
    return times


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank rule."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def time_to_first_byte(url: str, body: bytes, headers: dict[str, str], count: int) -> dict[str, float]:
    """p50/p90/p99 and mean of the time to the first SSE event, in milliseconds."""
    times = asyncio.run(_probe(url + "/v1/chat/completions", body, headers, count))
    ms = [t * 1000 for t in times]
    return {
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "mean_ms": statistics.fmean(ms),
    }
