"""Time to first byte of a streamed answer, measured one request at a time per target.

The client is aiohttp in the harness (one connection per target); its own cost is the same for
every target, so the difference between the gateway and the upstream itself is what the gateway
adds before the first event reaches the client. The targets take turns request by request, so a
burst of load from elsewhere on the machine falls on all of them alike.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Mapping

import aiohttp

Probe = tuple[str, bytes, dict[str, str]]
"""A target's root URL, the request body and its headers."""


async def _first_byte(session: aiohttp.ClientSession, probe: Probe) -> float:
    url, body, headers = probe
    started = time.perf_counter()
    async with session.post(url + "/v1/chat/completions", data=body, headers=headers) as resp:
        first = await resp.content.readany()
        elapsed = time.perf_counter() - started
        if resp.status != 200 or not first.startswith(b"data:"):
            raise RuntimeError(f"{url}: status {resp.status}, first bytes {first[:80]!r}")
        await resp.read()
    return elapsed


async def _probe_all(probes: Mapping[str, Probe], count: int) -> dict[str, list[float]]:
    sessions = {name: aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) for name in probes}
    times: dict[str, list[float]] = {name: [] for name in probes}
    try:
        for i in range(count + 5):
            for name, probe in probes.items():
                elapsed = await _first_byte(sessions[name], probe)
                if i >= 5:  # the first few warm the connections and the servers' caches
                    times[name].append(elapsed)
    finally:
        for session in sessions.values():
            await session.close()
    return times


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank rule."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def time_to_first_byte(probes: Mapping[str, Probe], count: int) -> dict[str, dict[str, float]]:
    """Per target: p50/p90/p99 and mean of the time to the first SSE event, in milliseconds."""
    out = {}
    for name, times in asyncio.run(_probe_all(probes, count)).items():
        ms = [t * 1000 for t in times]
        out[name] = {
            "p50_ms": percentile(ms, 50),
            "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99),
            "mean_ms": statistics.fmean(ms),
        }
    return out
