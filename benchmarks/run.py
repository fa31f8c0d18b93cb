"""Runs the request-path benchmark and writes ``results.json`` and ``results.md``.

    python -m benchmarks.run            # the full run (make bench), about twelve minutes
    python -m benchmarks.run --smoke    # a few seconds: proves the harness works (make bench-smoke)

Layout on a two-core machine: the load generator (wrk), nginx, the paced upstream and this
harness on core 0; the server being measured alone on core 1. Each figure is the median of
``--rounds`` short runs, and the targets take turns within a round, so a burst of load from
elsewhere on the machine hits all of them alike. Everything started is stopped on exit,
Ctrl-C, an error or the ``--max-minutes`` alarm.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.loadgen import run_wrk, write_script
from benchmarks.procs import Processes, cpu_seconds, settle
from benchmarks.targets import (
    AGENT_KEY,
    FIXED_AGENT,
    PACED_AGENT,
    SLOW_AGENT,
    TTFB_MODEL,
    Server,
    drop_redis_keys,
    gateway_config,
    nginx_binary,
    redis_answers,
    sample_counts,
    start_gateway,
    start_nginx,
    start_nginx_proxy,
    start_paced,
    start_passthrough,
)
from benchmarks.ttfb import time_to_first_byte
from benchmarks.upstream import MODEL, request_body

SECTIONS = ("path", "ttfb", "streams", "workers", "servers", "clients")


@dataclass
class Options:
    smoke: bool
    seconds: float
    rounds: int
    connections: tuple[int, ...]
    streams: int
    stream_model: str
    stream_seconds: float
    ttfb_count: int
    sections: tuple[str, ...]
    server: str
    out: Path
    load_core: str | None
    server_core: str | None


def parse(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(description="Request-path benchmark of the gateway (see docs/performance.md).")
    p.add_argument("--smoke", action="store_true", help="a few seconds, small counts: proves the harness runs")
    p.add_argument("--seconds", type=float, default=4.0, help="length of one wrk run")
    p.add_argument("--rounds", type=int, default=3, help="runs per figure (the median is reported)")
    p.add_argument("--connections", default="1,16", help="connection counts of the path section")
    p.add_argument("--streams", type=int, default=1000, help="slow streams held at once")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {','.join(SECTIONS)}")
    p.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn", help="server of the path section")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--max-minutes", type=float, default=30.0, help="hard limit: stop everything after this")
    a = p.parse_args(argv)
    two_cores = (os.cpu_count() or 1) >= 2
    signal.alarm(int(a.max_minutes * 60))
    if a.smoke:
        return Options(
            smoke=True,
            seconds=1,
            rounds=1,
            connections=(2,),
            streams=20,
            stream_model="pace-100x10",
            stream_seconds=2,
            ttfb_count=10,
            sections=("path", "ttfb", "streams"),
            server=a.server,
            out=a.out,
            load_core="0" if two_cores else None,
            server_core="1" if two_cores else None,
        )
    return Options(
        smoke=False,
        seconds=a.seconds,
        rounds=a.rounds,
        connections=tuple(int(c) for c in a.connections.split(",")),
        streams=a.streams,
        stream_model="pace-500x20",
        stream_seconds=20,
        ttfb_count=300,
        sections=tuple(s for s in a.sections.split(",") if s),
        server=a.server,
        out=a.out,
        load_core="0" if two_cores else None,
        server_core="1" if two_cores else None,
    )


def _headers(*, gateway: bool, stream: bool) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Accept": "text/event-stream" if stream else "application/json",
        "Authorization": f"Bearer {AGENT_KEY}" if gateway else "Bearer upstream-key",
    }
    if gateway:
        headers["X-Genesis-User"] = "user-48213"
    return headers


class Bench:
    """One run: the processes it started and the figures it measured."""

    def __init__(self, opts: Options, procs: Processes):
        self.opts = opts
        self.procs = procs
        self.workdir = procs.workdir
        self.nginx = start_nginx(procs, opts.load_core)
        self.paced = start_paced(procs, opts.load_core)
        self._measured: list[Server] = []
        self.redis_prefix = f"genesis-bench-{os.getpid()}:"
        self.notes: list[str] = []

    def _gateway(self, name: str, rate: float, *, redis_prefix: str | None = None, **kwargs: Any) -> Server:
        config = gateway_config(
            self.workdir,
            name,
            nginx_port=self.nginx.port,
            paced_port=self.paced.port,
            sample_rate=rate,
            slow_model=self.opts.stream_model,
            redis_prefix=redis_prefix,
        )
        if redis_prefix is not None:
            kwargs["extra_env"] = {"GATEWAY_REDIS_PREFIX": redis_prefix + "flags:"}
        kwargs.setdefault("cores", self.opts.server_core)
        server = start_gateway(self.procs, name, config, **kwargs)
        self._measured.append(server)
        return server

    def _wrk(self, server: Server, *, gateway: bool, stream: bool, conns: int, model: str) -> dict[str, Any]:
        name = f"{'gw' if gateway else 'up'}-{'sse' if stream else 'json'}-{model}.lua".replace(":", "_")
        script = write_script(
            self.workdir / name, request_body(model, stream=stream), _headers(gateway=gateway, stream=stream)
        )
        settle([pid for s in self._measured for pid in s.pids()])
        pids = server.pids()
        before = [cpu_seconds([pid]) for pid in pids]
        upstream_before = cpu_seconds(self.nginx.pids())
        result = run_wrk(
            server.url + "/v1/chat/completions",
            script,
            connections=conns,
            seconds=self.opts.seconds,
            cores=self.opts.load_core,
        )
        spent = [cpu_seconds([pid]) - b for pid, b in zip(pids, before, strict=True)]
        row: dict[str, Any] = result.as_dict()
        # What wrk and nginx took per request: on cores shared with the server, taken from it.
        load_s = result.cpu_s + (cpu_seconds(self.nginx.pids()) - upstream_before if server is not self.nginx else 0.0)
        row["load_us_per_req"] = load_s / result.requests * 1e6 if result.requests else None
        measured = result.requests and server is not self.nginx
        row["cpu_us_per_req"] = sum(spent) / result.requests * 1e6 if measured else None
        row["cpu_s_per_process"] = spent  # the workers section turns them into shares of a core
        # And with what the run left behind (an embedded scorer's backlog), done once the process is idle.
        settle(pids)
        after = sum(cpu_seconds([pid]) for pid in pids) - sum(before)
        row["cpu_us_per_req_all"] = after / result.requests * 1e6 if measured else None
        return row

    def path(self) -> dict[str, Any]:
        """Throughput and latency at each connection count, JSON and SSE answers, for every target."""
        pass_through = start_passthrough(
            self.procs, "passthrough", self.nginx, cores=self.opts.server_core, server=self.opts.server
        )
        raw = start_passthrough(
            self.procs,
            "passthrough-raw",
            self.nginx,
            cores=self.opts.server_core,
            server=self.opts.server,
            raw_asgi=True,
        )
        raw_gc = start_passthrough(
            self.procs,
            "passthrough-raw-gc",
            self.nginx,
            cores=self.opts.server_core,
            server=self.opts.server,
            raw_asgi=True,
            tune_gc=True,
        )
        with_aiohttp = start_passthrough(
            self.procs,
            "passthrough-aiohttp",
            self.nginx,
            cores=self.opts.server_core,
            server=self.opts.server,
            client="aiohttp",
        )
        proxy = start_nginx_proxy(self.procs, "nginx-proxy", self.nginx, self.opts.server_core)
        self._measured += [pass_through, raw, raw_gc, with_aiohttp]
        gw_off = self._gateway("gateway-sample-0", 0.0, server=self.opts.server)
        gw_all = self._gateway("gateway-sample-1", 1.0, server=self.opts.server)
        targets: dict[str, tuple[Server, bool]] = {
            "upstream (nginx)": (self.nginx, False),
            "nginx proxy_pass hop": (proxy, False),
            "passthrough": (pass_through, False),
            "passthrough, raw ASGI handler": (raw, False),
            "passthrough, raw ASGI handler, GC tuned": (raw_gc, False),
            "passthrough, aiohttp": (with_aiohttp, False),
            "gateway, sampling 0 %": (gw_off, True),
            "gateway, sampling 100 %": (gw_all, True),
        }
        if redis_answers():
            gw_redis = self._gateway("gateway-redis", 1.0, server=self.opts.server, redis_prefix=self.redis_prefix)
            targets["gateway, sampling 100 %, Redis queue"] = (gw_redis, True)
        else:
            self.notes.append("Redis did not answer on 127.0.0.1:6379: the Redis-queue gateway was not measured.")
        scenarios = []
        for stream in (False, True):
            for conns in self.opts.connections:
                rounds: dict[str, list[dict[str, Any]]] = {t: [] for t in targets}
                for _ in range(self.opts.rounds):
                    for target in _run_order(targets):
                        server, is_gw = targets[target]
                        model = FIXED_AGENT if is_gw else MODEL
                        rounds[target].append(self._wrk(server, gateway=is_gw, stream=stream, conns=conns, model=model))
                scenarios.append(_scenario("SSE" if stream else "JSON", conns, rounds))
        rss = {
            name: round(max(server.rss_mb()), 1)
            for name, (server, _) in targets.items()
            if server not in (self.nginx, proxy)
        }
        self.procs.stop(proxy.proc)
        samples = {name: sample_counts(server) for name, (server, _) in targets.items() if "100 %" in name}
        return {"scenarios": scenarios, "rss_mb": rss, "samples": samples}

    def ttfb(self) -> dict[str, Any]:
        """Time to first byte, one request at a time, through each target to two upstreams: the paced
        one (Python: head and first event in separate writes, later events 5 ms apart) and nginx (the
        whole stream in one write), each target's figure less its own upstream's."""
        gw = self._gateway("gateway-ttfb", 0.0)
        started = [gw]
        for name, upstream, plain_asgi in (
            ("passthrough-paced", self.paced, False),
            ("passthrough-raw-paced", self.paced, True),
            ("passthrough-raw-nginx", self.nginx, True),
        ):
            started.append(
                start_passthrough(
                    self.procs, name, upstream, cores=self.opts.server_core, server="uvicorn", raw_asgi=plain_asgi
                )
            )
        _, pass_through, raw, raw_nginx = started
        self._measured += started[1:]
        proxies = [
            start_nginx_proxy(self.procs, f"nginx-proxy-{up}", upstream, self.opts.server_core)
            for up, upstream in (("paced", self.paced), ("nginx", self.nginx))
        ]
        paced_body = request_body(TTFB_MODEL, stream=True).encode()
        nginx_body = request_body(MODEL, stream=True).encode()
        direct, via_gateway = _headers(gateway=False, stream=True), _headers(gateway=True, stream=True)
        paced_probes = {
            "upstream (paced)": (self.paced.url, paced_body, direct),
            "nginx proxy_pass hop": (proxies[0].url, paced_body, direct),
            "passthrough": (pass_through.url, paced_body, direct),
            "passthrough, raw ASGI handler": (raw.url, paced_body, direct),
            "gateway": (gw.url, request_body(PACED_AGENT, stream=True).encode(), via_gateway),
        }
        nginx_probes = {
            "upstream (nginx)": (self.nginx.url, nginx_body, direct),
            "nginx proxy_pass hop → nginx": (proxies[1].url, nginx_body, direct),
            "passthrough, raw ASGI handler → nginx": (raw_nginx.url, nginx_body, direct),
            "gateway → nginx": (gw.url, request_body(FIXED_AGENT, stream=True).encode(), via_gateway),
        }
        settle([pid for s in self._measured for pid in s.pids()])
        # Two loops, not one: a paced answer keeps the machine idle for 15 ms, and a request that
        # follows idle cores pays for waking them (a KVM guest here), which would fall on whichever
        # nginx target came next.
        out = time_to_first_byte(paced_probes, self.opts.ttfb_count)
        out |= time_to_first_byte(nginx_probes, self.opts.ttfb_count)
        for name, row in out.items():
            if not name.startswith("upstream"):
                base = out["upstream (nginx)" if name.endswith("nginx") else "upstream (paced)"]
                row["added_p50_ms"] = row["p50_ms"] - base["p50_ms"]
                row["added_p99_ms"] = row["p99_ms"] - base["p99_ms"]
        for server in started:
            self.procs.stop(server.proc)
            self._measured.remove(server)
        for server in proxies:
            self.procs.stop(server.proc)
        return {"model": TTFB_MODEL, "targets": out}

    def streams(self) -> dict[str, Any]:
        """``--streams`` slow streams at once through one fresh gateway: held, and at what memory."""
        gw = self._gateway("gateway-streams", 0.0)
        settle(gw.pids())
        idle = max(gw.rss_mb())
        gap_ms, events = (int(x) for x in self.opts.stream_model.removeprefix("pace-").split("x"))
        stream_s = gap_ms * (events - 1) / 1000
        script = write_script(
            self.workdir / "slow.lua", request_body(SLOW_AGENT, stream=True), _headers(gateway=True, stream=True)
        )
        result = run_wrk(
            gw.url + "/v1/chat/completions",
            script,
            connections=self.opts.streams,
            seconds=self.opts.stream_seconds,
            cores=self.opts.load_core,
            timeout_s=stream_s * 3 + 5,
        )
        row = {
            "connections": self.opts.streams,
            "stream_s": stream_s,
            "completed": result.requests,
            "errors": result.errors,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "rss_start_mb": round(idle, 1),
            "rss_peak_mb": round(max(gw.peak_mb()), 1),
            "rss_after_mb": round(max(gw.rss_mb()), 1),
        }
        self.procs.stop(gw.proc)
        self._measured.remove(gw)
        return row

    def workers(self) -> dict[str, Any]:
        """The gateway (and the passthrough, for the machine's own ceiling) with one and two workers on both cores."""
        both = "0,1" if self.opts.load_core else None

        def passthrough(workers: int) -> Server:
            server = start_passthrough(
                self.procs, f"passthrough-w{workers}", self.nginx, cores=both, server="uvicorn", workers=workers
            )
            self._measured.append(server)
            return server

        targets: dict[str, tuple[Server, bool, int]] = {
            "gateway": (self._gateway("gateway-w1", 0.0, cores=both), True, 1),
            "gateway ×2": (self._gateway("gateway-w2", 0.0, cores=both, workers=2), True, 2),
            "passthrough": (passthrough(1), False, 1),
            "passthrough ×2": (passthrough(2), False, 2),
        }
        rows: dict[str, list[dict[str, Any]]] = {t: [] for t in targets}
        old_core, self.opts.load_core = self.opts.load_core, both
        if both:  # the upstream too may run on either core, like wrk and the workers
            self.nginx.pin(both)
        try:
            for warm_up in (True, *([False] * self.opts.rounds)):  # idle ones hold memory, not CPU
                for target, (server, is_gw, _n) in targets.items():
                    model = FIXED_AGENT if is_gw else MODEL
                    row = self._wrk(server, gateway=is_gw, stream=False, conns=32, model=model)
                    row["rss_mb"] = max(server.rss_mb())
                    # Each worker's share of a core during the run: uneven shares mean uneven connections.
                    spent = row.pop("cpu_s_per_process")
                    row["core_shares"] = sorted((round(s / self.opts.seconds, 2) for s in spent), reverse=True)
                    busy = sum(spent) / self.opts.seconds
                    row["rps_per_core"] = row["rps"] / busy if busy else None
                    if not warm_up:
                        rows[target].append(row)
        finally:
            self.opts.load_core = old_core
            if both and old_core:
                self.nginx.pin(old_core)
        out = {
            t: {
                **_median(rows[t]),
                "workers": targets[t][2],
                "core_shares": [r["core_shares"] for r in rows[t]],
                "rps_per_core": _median_of(r["rps_per_core"] for r in rows[t]),
                "load_us_per_req": _median_of(r["load_us_per_req"] for r in rows[t]),
            }
            for t in targets
        }
        for name in ("gateway", "passthrough"):
            pairs = list(zip(rows[name], rows[f"{name} ×2"], strict=True))
            out[f"{name} ×2"]["scaling"] = statistics.median(two["rps"] / one["rps"] for one, two in pairs)
            out[f"{name} ×2"]["scaling_best"] = max(two["rps"] / one["rps"] for one, two in pairs)
            # What each busy core served with two workers against one: 1.0 is scaling without contention,
            # whatever share of the two cores wrk and nginx took from the workers.
            out[f"{name} ×2"]["per_core"] = _median_of(
                two["rps_per_core"] / one["rps_per_core"]
                for one, two in pairs
                if one["rps_per_core"] and two["rps_per_core"]
            )
            out[f"{name} ×2"]["bound"] = _median_of(_two_core_bound(one, two) for one, two in pairs)
        return {"connections": 32, "targets": out}

    def servers(self) -> dict[str, Any]:
        """The same gateway under uvicorn (uvloop, httptools) and granian, taking turns."""
        if not Path(sys.executable).with_name("granian").exists():
            self.notes.append("granian is not installed in the venv (pip install granian): servers not compared.")
            return {"targets": {}}
        servers = {name: self._gateway(f"gateway-{name}", 0.0, server=name) for name in ("uvicorn", "granian")}
        out: dict[str, Any] = {}
        for stream in (False, True):
            rounds: dict[str, list[dict[str, Any]]] = {n: [] for n in servers}
            for _ in range(self.opts.rounds):
                for name, server in servers.items():
                    rounds[name].append(self._wrk(server, gateway=True, stream=stream, conns=16, model=FIXED_AGENT))
            for name in servers:
                out[f"{name} ({'SSE' if stream else 'JSON'})"] = {
                    **_median(rounds[name]),
                    "mode": "SSE" if stream else "JSON",
                    "connections": 16,
                }
        return {"targets": out}

    def clients(self) -> dict[str, Any]:
        """The passthrough with the gateway's client, aiohttp and httpx to the upstream, taking turns (JSON answers)."""
        servers = {
            client: start_passthrough(
                self.procs,
                f"passthrough-{client}",
                self.nginx,
                cores=self.opts.server_core,
                server="uvicorn",
                client=client,
            )
            for client in ("gateway", "aiohttp", "httpx")
        }
        self._measured += list(servers.values())
        out: dict[str, Any] = {}
        for conns in self.opts.connections:
            rounds: dict[str, list[dict[str, Any]]] = {n: [] for n in servers}
            for _ in range(self.opts.rounds):
                for name, server in servers.items():
                    rounds[name].append(self._wrk(server, gateway=False, stream=False, conns=conns, model=MODEL))
            for name in servers:
                out[f"{name}, {conns} conns"] = {**_median(rounds[name]), "mode": "JSON", "connections": conns}
        return {"targets": out}


def _run_order(targets: dict[str, tuple[Server, bool]]) -> list[str]:
    """The targets of one round in the order they run: the passthrough amid the gateways it is the yardstick
    of, so that each ratio compares runs a few seconds apart."""
    gateways = [t for t in targets if t.startswith("gateway")]
    others = [t for t in targets if t not in gateways and t != "passthrough"]
    return [*others[:2], *gateways[:1], "passthrough", *gateways[1:], *others[2:]]


def _median_of(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "cpu_us_per_req", "cpu_us_per_req_all", "rss_mb")
    out: dict[str, Any] = {}
    for k in keys:
        values = [r[k] for r in rows if r.get(k) is not None]
        out[k] = round(statistics.median(values), 3) if values else None
    out["errors"] = sum(r["errors"] for r in rows)
    out["requests"] = sum(r["requests"] for r in rows)
    out["rounds"] = rows
    return out


def _two_core_bound(one: dict[str, Any], two: dict[str, Any]) -> float | None:
    """The most two workers can serve against one when the load generator and the upstream share their two cores.

    One worker has a core to itself and serves ``1 / c`` requests a second (``c``: its CPU per
    request). Two workers that do not slow each other still cost ``c`` a request, and wrk and nginx
    take ``L`` a request from the same two cores, so together they serve at most ``2 / (c + L)``:
    ``2c / (c + L)`` times one worker. The cheaper the server, the lower that bound (1.5 for a server
    three times as costly as its load generator); only a machine with cores for the load generator
    lifts it.
    """
    per_core: float | None = one.get("rps_per_core")
    load_us: float | None = two.get("load_us_per_req")
    if not per_core or load_us is None:
        return None
    c = 1 / per_core
    return 2 * c / (c + load_us / 1e6)


def _scenario(mode: str, conns: int, rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    targets = {t: _median(r) for t, r in rounds.items()}
    direct = targets["upstream (nginx)"]
    for name, row in targets.items():
        if name.startswith("upstream"):
            continue
        # The median of each round's ratio, not the ratio of the medians: a slow spell of the shared
        # machine lasts seconds and falls on neighbouring runs of one round alike.
        ratios = [t["rps"] / p["rps"] for t, p in zip(rounds[name], rounds["passthrough"], strict=True) if p["rps"]]
        row["ratio"] = round(statistics.median(ratios), 3) if ratios else None
        row["added_p50_ms"] = round(row["p50_ms"] - direct["p50_ms"], 3)
        row["added_p99_ms"] = round(row["p99_ms"] - direct["p99_ms"], 3)
    return {"mode": mode, "connections": conns, "targets": targets}


def goals(sections: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's goals against this run's figures."""
    out: list[dict[str, Any]] = []

    def add(goal: str, value: float, limit: float, *, at_least: bool, fmt: str) -> None:
        met = value >= limit if at_least else value <= limit
        out.append({"goal": goal, "measured": fmt.format(value), "value": value, "met": met})

    if "path" in sections:
        by = {(s["mode"], s["connections"]): s["targets"] for s in sections["path"]["scenarios"]}
        many = max(c for _, c in by)
        for mode in ("JSON", "SSE"):
            for target in [t for t in by[(mode, many)] if t.startswith("gateway")]:
                ratio = by[(mode, many)][target]["ratio"]
                add(
                    f"{target}, {mode}, {many} conns: req/s ≥ 0.8 × passthrough",
                    ratio,
                    0.8,
                    at_least=True,
                    fmt="{:.2f} ×",
                )
        if ("JSON", 1) in by:
            one = by[("JSON", 1)]["gateway, sampling 0 %"]
            add("added latency at 1 conn, p50 ≤ 0.5 ms", one["added_p50_ms"], 0.5, at_least=False, fmt="{:.3f} ms")
            add("added latency at 1 conn, p99 ≤ 2 ms", one["added_p99_ms"], 2.0, at_least=False, fmt="{:.3f} ms")
        for name, rss in sections["path"]["rss_mb"].items():
            if name.startswith("gateway"):
                add(f"{name}: RSS after the load ≤ 100 MB per worker", rss, 100, at_least=False, fmt="{:.0f} MB")
    if "ttfb" in sections:
        ttfb = sections["ttfb"]["targets"]
        for target, upstream in (("gateway → nginx", "nginx, the issue's upstream"), ("gateway", "the paced upstream")):
            added = ttfb[target]["added_p50_ms"]
            add(f"streaming TTFB added against {upstream}, p50 ≤ 0.5 ms", added, 0.5, at_least=False, fmt="{:.3f} ms")
    if "streams" in sections:
        s = sections["streams"]
        add(
            f"{s['connections']:,} slow streams held, RSS < 300 MB",
            s["rss_peak_mb"],
            300,
            at_least=False,
            fmt="{:.0f} MB peak",
        )
    if "workers" in sections:
        two = sections["workers"]["targets"]["gateway ×2"]
        scaling, bound = two["scaling"], two.get("bound")
        fmt = "{:.2f} ×" + (
            "" if bound is None else f" (the most two cores shared with wrk and nginx allow: {bound:.2f} ×)"
        )
        add("--workers 2 on two cores ≥ 1.7 × one worker", scaling, 1.7, at_least=True, fmt=fmt)
    return out


def machine() -> dict[str, Any]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cpus": os.cpu_count(), "cpu_model": model, "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(opts: Options, procs: Processes) -> dict[str, Any]:
    results: dict[str, Any] = {
        "command": shlex.join(["python", "-m", "benchmarks.run", *sys.argv[1:]]),
        "machine": machine(),
        "options": {"rounds": opts.rounds, "seconds": opts.seconds, "smoke": opts.smoke, "server": opts.server},
        "sections": {},
        "notes": [],
    }
    bench = Bench(opts, procs)
    try:
        for section in opts.sections:
            started = time.monotonic()
            print(f"[bench] {section} ...", file=sys.stderr, flush=True)
            results["sections"][section] = getattr(bench, section)()
            print(f"[bench] {section} done in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    finally:
        procs.close()  # the gateways first, so none writes to Redis while its keys are dropped
        if redis_answers():
            drop_redis_keys(bench.redis_prefix)
    results["notes"] += bench.notes
    results["machine"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results["goals"] = goals(results["sections"])
    return results


def check_sane(results: dict[str, Any]) -> list[str]:
    """What makes a smoke run fail: errors, or figures no working setup produces."""
    problems = []
    for s in results["sections"].get("path", {}).get("scenarios", []):
        for target, r in s["targets"].items():
            if r["errors"] or r["rps"] <= 0 or not 0 < r["p50_ms"] < 1000:
                problems.append(
                    f"{s['mode']} {s['connections']} conns, {target}: {r['rps']:.0f} req/s, {r['errors']} errors"
                )
    streams = results["sections"].get("streams")
    if streams and (streams["errors"] or not streams["completed"]):
        problems.append(f"slow streams: {streams['completed']} completed, {streams['errors']} errors")
    return problems


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    for tool in ("nginx", "wrk", "taskset"):
        if (nginx_binary() if tool == "nginx" else shutil.which(tool)) is None:
            print(f"error: {tool} is not installed (bash scripts/ensure-services.sh installs it)", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGALRM, _interrupt)
    if opts.load_core is not None:
        os.sched_setaffinity(0, {int(opts.load_core)})  # the harness (and the TTFB client) stays off the server's core
    procs = Processes(Path(tempfile.mkdtemp(prefix="genesis-bench-")))
    try:
        results = run(opts, procs)
    except KeyboardInterrupt as exc:
        print(f"[bench] interrupted ({exc}); everything started was stopped", file=sys.stderr)
        return 130
    finally:
        procs.close()
        shutil.rmtree(procs.workdir, ignore_errors=True)
    opts.out.mkdir(parents=True, exist_ok=True)
    (opts.out / "results.json").write_text(json.dumps(results, indent=2))
    text = report.markdown(results)
    (opts.out / "results.md").write_text(text)
    print(text)
    problems = check_sane(results) if opts.smoke else []
    for problem in problems:
        print(f"[bench] not sane: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
