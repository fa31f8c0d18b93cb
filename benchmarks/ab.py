"""A/B of two checkouts of the gateway, side by side in one run: how the optimisation commits were measured.

    git worktree add /tmp/before HEAD~1
    python -m benchmarks.ab --trees before=/tmp/before,after=. [--rate 1 --redis] [--stream] [--conns 16]

Each tree's gateway is started with ``PYTHONPATH`` pointing at it (so its ``gateway`` package is the
one imported), pinned to core 1 beside the passthrough, with nginx and wrk on core 0; the targets
take turns within each round and the medians are printed. CPU µs per request is the steadiest
figure on a shared machine (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.loadgen import run_wrk, write_script
from benchmarks.procs import Processes, cpu_seconds, settle
from benchmarks.run import _headers
from benchmarks.targets import (
    FIXED_AGENT,
    Server,
    drop_redis_keys,
    gateway_config,
    start_gateway,
    start_nginx,
    start_paced,
    start_passthrough,
)
from benchmarks.upstream import MODEL, request_body

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Round:
    rps: float
    cpu_us: float
    p50_ms: float
    p99_ms: float
    errors: int


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--trees", required=True, help="label=path,... : checkouts whose gateway to compare")
    p.add_argument("--rate", type=float, default=0.0, help="sample rate of every gateway")
    p.add_argument("--redis", action="store_true", help="production homes in the local Redis")
    p.add_argument("--stream", action="store_true", help="SSE answers instead of JSON")
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--no-passthrough", action="store_true", help="leave the passthrough out")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    if shutil.which("wrk") is None or shutil.which("taskset") is None:
        print("error: wrk and taskset are needed (bash scripts/ensure-services.sh)", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {0})
    os.environ["PYTHONPATH"] = str(ROOT)  # nginx helpers and the passthrough come from this checkout
    procs = Processes(Path(tempfile.mkdtemp(prefix="genesis-ab-")))
    # Servers start in the run's directory: ``python -m`` puts the working directory first on the
    # path, and a checkout there would shadow each tree's PYTHONPATH.
    os.chdir(procs.workdir)
    prefix = f"genesis-ab-{os.getpid()}:"
    try:
        nginx, paced = start_nginx(procs, "0"), start_paced(procs, "0")
        targets: dict[str, tuple[Server, bool]] = {}
        if not a.no_passthrough:
            targets["passthrough"] = (
                start_passthrough(procs, "passthrough", nginx, cores="1", server="uvicorn"),
                False,
            )
        for spec in a.trees.split(","):
            label, tree = spec.split("=", 1)
            redis_prefix = f"{prefix}{label}:" if a.redis else None
            config = gateway_config(
                procs.workdir,
                label,
                nginx_port=nginx.port,
                paced_port=paced.port,
                sample_rate=a.rate,
                slow_model="pace-5x4",
                redis_prefix=redis_prefix,
            )
            env = {"PYTHONPATH": str(Path(tree).resolve())}
            if redis_prefix is not None:
                env["GATEWAY_REDIS_PREFIX"] = redis_prefix + "flags:"
            targets[label] = (start_gateway(procs, label, config, cores="1", extra_env=env), True)
        rounds: dict[str, list[Round]] = {t: [] for t in targets}
        every_pid = [pid for server, _ in targets.values() for pid in server.pids()]
        for _ in range(a.rounds):
            for label, (server, is_gateway) in targets.items():
                body = request_body(FIXED_AGENT if is_gateway else MODEL, stream=a.stream)
                script = write_script(
                    procs.workdir / f"{label}.lua", body, _headers(gateway=is_gateway, stream=a.stream)
                )
                settle(every_pid)
                before = cpu_seconds(server.pids())
                out = run_wrk(
                    server.url + "/v1/chat/completions", script, connections=a.conns, seconds=a.seconds, cores="0"
                )
                used = cpu_seconds(server.pids()) - before
                cpu_us = used / out.requests * 1e6 if out.requests else 0.0
                rounds[label].append(Round(out.rps, cpu_us, out.p50_ms, out.p99_ms, out.errors))
        base = statistics.median(r.rps for r in rounds["passthrough"]) if "passthrough" in rounds else None
        for label, rows in rounds.items():
            rps = statistics.median(r.rps for r in rows)
            ratio = f"{rps / base:.3f}" if base else "–"
            print(
                f"{label:14s} req/s {rps:8,.0f}  × passthrough {ratio}  "
                f"CPU µs/req {statistics.median(r.cpu_us for r in rows):6.1f} {[round(r.cpu_us) for r in rows]}  "
                f"p50 {statistics.median(r.p50_ms for r in rows):.2f} ms  "
                f"p99 {statistics.median(r.p99_ms for r in rows):.2f} ms  "
                f"errors {sum(r.errors for r in rows)}  RSS {max(targets[label][0].rss_mb()):.0f} MB"
            )
    finally:
        procs.close()
        shutil.rmtree(procs.workdir, ignore_errors=True)
        if a.redis:
            drop_redis_keys(prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
