"""What the upstream client costs per request: the gateway's own (``H1Pool``) against aiohttp.

Sends ``--requests`` chat requests one after another, over one kept-alive connection, to nginx
answering the fixed Mistral-shaped completion (``benchmarks.upstream``; its own process, so its
CPU is not counted), on uvloop as the gateway runs, and prints the client's CPU time per request
(``time.process_time``: this process only) and the wall time, for JSON and for SSE answers. The
clients take turns ``--rounds`` times; the median of the rounds is printed.

Both processes share one core by default (``--apart``: nginx on core 0, the client on core 1). On
a KVM guest an idle vCPU is slow to wake, and one request at a time leaves each side idle while
the other works: apart, that wake-up lands in the client's CPU time (~50 µs instead of ~18 for
the own client, here) — a cost a loaded gateway, never idle, does not pay.

    .venv/bin/python -m benchmarks.client_speed [--requests 5000] [--rounds 3] [--apart]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import uvloop

from benchmarks.procs import Processes
from benchmarks.targets import nginx_binary, start_nginx
from benchmarks.upstream import MODEL, request_body
from gateway.upstream.pool import H1Pool, Origin

_PATH = "/v1/chat/completions"
_HEADERS = {"content-type": "application/json", "authorization": "Bearer bench"}

Client = Callable[[bool], Awaitable[int]]
"""One request (streamed or not); returns the body's length."""


async def _h1_client(url: str) -> tuple[Client, Callable[[], Awaitable[None]]]:
    origin = Origin.parse(url)
    pool = H1Pool(origin, max_connections=16, connect_timeout_s=5.0, read_timeout_s=300.0)
    heads = {
        False: origin.head("POST", _PATH, {**_HEADERS, "accept": "application/json"}),
        True: origin.head("POST", _PATH, {**_HEADERS, "accept": "text/event-stream"}),
    }
    bodies = {stream: request_body(MODEL, stream=stream).encode() for stream in (False, True)}

    async def one(stream: bool) -> int:
        answer = await pool.request(heads[stream], bodies[stream], request_id="bench")
        try:
            if not stream:
                return len(await answer.read())
            return sum([len(piece) async for piece in answer.pieces()])
        finally:
            answer.release()

    return one, pool.close


async def _aiohttp_client(url: str) -> tuple[Client, Callable[[], Awaitable[None]]]:
    # The settings gateway/upstream/http.py used with aiohttp.
    timeout = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=300.0)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=16, ttl_dns_cache=300),
        timeout=timeout,
        auto_decompress=True,
        skip_auto_headers=("User-Agent",),
    )
    accepts = {False: "application/json", True: "text/event-stream"}
    bodies = {stream: request_body(MODEL, stream=stream).encode() for stream in (False, True)}

    async def one(stream: bool) -> int:
        headers = {**_HEADERS, "accept": accepts[stream], "x-request-id": "bench"}
        async with session.post(url + _PATH, data=bodies[stream], headers=headers) as resp:
            if not stream:
                return len(await resp.read())
            return sum([len(chunk) async for chunk in resp.content.iter_any()])

    return one, session.close


CLIENTS = {"h1": _h1_client, "aiohttp": _aiohttp_client}


async def _time(
    make: Callable[[str], Awaitable[tuple[Client, Callable[[], Awaitable[None]]]]],
    url: str,
    *,
    requests: int,
    stream: bool,
) -> tuple[float, float]:
    """(CPU µs, wall µs) per request over ``requests`` sequential requests, after a warm-up."""
    one, close = await make(url)
    try:
        for _ in range(200):
            await one(stream)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            await one(stream)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await close()
    return cpu / requests * 1e6, wall / requests * 1e6


async def _compare(url: str, *, requests: int, rounds: int) -> None:
    for stream in (False, True):
        kind = "SSE " if stream else "JSON"
        cpus: dict[str, list[float]] = {name: [] for name in CLIENTS}
        walls: dict[str, list[float]] = {name: [] for name in CLIENTS}
        for _ in range(rounds):
            for name, make in CLIENTS.items():
                cpu, wall = await _time(make, url, requests=requests, stream=stream)
                cpus[name].append(cpu)
                walls[name].append(wall)
        for name in CLIENTS:
            cpu, wall = statistics.median(cpus[name]), statistics.median(walls[name])
            print(f"{kind} {name:8} {cpu:7.1f} µs CPU per request   {wall:7.1f} µs wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--apart", action="store_true", help="nginx and the client on two cores")
    parser.add_argument("--upstream", help="a running fixed-answer upstream's root URL instead of starting nginx")
    args = parser.parse_args()
    if args.upstream:
        uvloop.run(_compare(args.upstream.rstrip("/"), requests=args.requests, rounds=args.rounds))
        return
    if nginx_binary() is None:
        raise SystemExit("nginx is needed (or pass --upstream URL)")
    with tempfile.TemporaryDirectory() as workdir:
        procs = Processes(Path(workdir))
        try:
            cores = sorted(os.sched_getaffinity(0))
            mine = cores[-1]
            nginx = start_nginx(procs, cores=str(cores[0] if args.apart else mine))
            os.sched_setaffinity(0, {mine})
            uvloop.run(_compare(nginx.url, requests=args.requests, rounds=args.rounds))
        finally:
            procs.close()


if __name__ == "__main__":
    main()
