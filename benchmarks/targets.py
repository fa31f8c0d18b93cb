"""What a run measures: the upstreams, the passthrough and gateway processes, each started its own way.

The gateway is started exactly as production starts it (``genesis-gateway serve --config ...``),
with a config that points an upstream of kind ``mistral`` at nginx and another at the paced
upstream, an agent key, and the sample rate of the scenario.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import redis
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.procs import Proc, Processes, children, free_port, memory_kb, serving_pids, wait_port
from benchmarks.upstream import nginx_config, nginx_proxy_config

AGENT_KEY = "bench-agent-key"
FIXED_AGENT = "bench_agent"
PACED_AGENT = "paced_agent"
SLOW_AGENT = "slow_agent"
TTFB_MODEL = "pace-5x4"
"""First event at once, then three more 5 ms apart."""

_CONFIG = """
upstreams:
  fixed:
    kind: mistral
    base_url: http://127.0.0.1:{nginx}
    api_key_env: MISTRAL_API_KEY
    max_connections: 2000
    timeout_s: 60
  paced:
    kind: mistral
    base_url: http://127.0.0.1:{paced}
    api_key_env: MISTRAL_API_KEY
    max_connections: 2000
    timeout_s: 60
agents:
  {fixed_agent}:
    candidate: {{model: "ft:open-mistral-7b:bench:candidate", upstream: fixed}}
    baseline: {{model: open-mistral-7b, upstream: fixed}}
    candidate_share: 50
    sample_rate: {rate}
  {paced_agent}:
    candidate: {{model: {ttfb_model}, upstream: paced}}
    baseline: {{model: {ttfb_model}, upstream: paced}}
    sample_rate: {rate}
  {slow_agent}:
    candidate: {{model: {slow_model}, upstream: paced}}
    baseline: {{model: {slow_model}, upstream: paced}}
    sample_rate: 0
prices:
  open-mistral-7b: {{input: 0.25, output: 0.25}}
  "ft:open-mistral-7b:bench:candidate": {{input: 0.75, output: 0.75}}
auth:
  keys:
    - {{name: bench, key_env: BENCH_AGENT_KEY, agents: ["*"]}}
"""


REDIS_URL = "redis://127.0.0.1:6379/0"
_REDIS = """
redis_url: {url}
scoring:
  key_prefix: "{prefix}"
  stream_max_len: 1000
  index_ttl_s: 60
"""


def redis_answers() -> bool:
    """Whether the local Redis (scripts/ensure-services.sh starts one) is there."""
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def drop_redis_keys(prefix: str) -> int:
    """Delete the keys a run wrote (its own prefix only; never a flush)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])
    return len(keys)


@dataclass
class Server:
    """A started HTTP server and where it listens."""

    proc: Proc
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return serving_pids(self.proc.pid)

    def rss_mb(self) -> list[float]:
        """Resident memory of each serving process, in MB."""
        return [memory_kb(pid) / 1024 for pid in self.pids()]

    def pin(self, cores: str) -> None:
        """Move the server (and the processes it started: nginx's worker) to ``cores``, e.g. ``"0,1"``."""
        cpus = {int(c) for c in cores.split(",")}
        for pid in (self.proc.pid, *children(self.proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(pid, cpus)

    def peak_mb(self) -> list[float]:
        """Peak resident memory (VmHWM) of each serving process, in MB."""
        return [memory_kb(pid, "VmHWM") / 1024 for pid in self.pids()]


def sample_counts(server: Server) -> dict[str, int]:
    """What a gateway's sampler did so far, from its ``/metrics``: offered, dropped (per reason), scored, skipped."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    counts: dict[str, int] = {}
    names = {
        "genesis_samples_offered_total": "offered",
        "genesis_quality_scored_total": "scored",
        "genesis_samples_skipped_total": "skipped",
    }
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "genesis_samples_dropped_total":
                key = "dropped (" + sample.labels.get("reason", "?") + ")"
            else:
                key = names.get(sample.name, "")
            if key:
                counts[key] = counts.get(key, 0) + int(sample.value)
    return counts


def nginx_binary() -> str | None:
    """nginx lives in /usr/sbin, which a non-login PATH may lack."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def start_nginx(procs: Processes, cores: str | None) -> Server:
    port = free_port()
    conf = nginx_config(procs.workdir, port)
    proc = procs.start(
        "nginx", [nginx_binary() or "nginx", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr"], cores=cores
    )
    wait_port(port, proc)
    return Server(proc, port)


def start_nginx_proxy(procs: Processes, name: str, upstream: Server, cores: str | None) -> Server:
    """nginx relaying every request to ``upstream``: the cost of a hop through a proxy written in C."""
    port = free_port()
    conf = nginx_proxy_config(procs.workdir, name, port, upstream.port)
    argv = [nginx_binary() or "nginx", "-p", str(conf.parent), "-c", str(conf), "-e", "stderr"]
    proc = procs.start(name, argv, cores=cores)
    wait_port(port, proc)
    return Server(proc, port)


def start_paced(procs: Processes, cores: str | None) -> Server:
    port = free_port()
    proc = procs.start("paced", [sys.executable, "-m", "benchmarks.slow_upstream", "--port", str(port)], cores=cores)
    wait_port(port, proc)
    return Server(proc, port)


def start_passthrough(
    procs: Processes,
    name: str,
    upstream: Server,
    *,
    cores: str | None,
    server: str,
    raw_asgi: bool = False,
    workers: int = 1,
    client: str = "gateway",
    tune_gc: bool = False,
) -> Server:
    port = free_port()
    env = {
        "PASSTHROUGH_UPSTREAM": upstream.url,
        "PASSTHROUGH_RAW_ASGI": "1" if raw_asgi else "0",
        "PASSTHROUGH_CLIENT": client,
        "PASSTHROUGH_TUNE_GC": "1" if tune_gc else "0",
    }
    argv = [sys.executable, "-m", "benchmarks.passthrough", "--port", str(port), "--workers", str(workers)]
    if server == "granian":
        argv = granian_argv("benchmarks.passthrough:create_app", port, workers=workers)
    proc = procs.start(name, argv, cores=cores, env=env)
    wait_port(port, proc)
    _wait_workers(proc, workers)
    return Server(proc, port)


def _wait_workers(proc: Proc, workers: int) -> None:
    """With several workers, wait until each is forked, so the load meets all of them."""
    deadline = time.monotonic() + 30
    while workers > 1 and len(serving_pids(proc.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.1)


def gateway_config(
    workdir: Path,
    name: str,
    *,
    nginx_port: int,
    paced_port: int,
    sample_rate: float,
    slow_model: str,
    redis_prefix: str | None = None,
) -> Path:
    """The gateway's YAML; with ``redis_prefix``, the production homes (flags, sample stream) in the local Redis."""
    path = workdir / f"{name}.yaml"
    redis = "" if redis_prefix is None else _REDIS.format(url=REDIS_URL, prefix=redis_prefix)
    path.write_text(
        redis
        + _CONFIG.format(
            nginx=nginx_port,
            paced=paced_port,
            rate=sample_rate,
            fixed_agent=FIXED_AGENT,
            paced_agent=PACED_AGENT,
            slow_agent=SLOW_AGENT,
            ttfb_model=TTFB_MODEL,
            slow_model=slow_model,
        )
    )
    return path


def granian_argv(target: str, port: int, *, workers: int) -> list[str]:
    """Granian serving an ASGI app factory with the settings uvicorn gets (uvloop, no access log)."""
    granian = str(Path(sys.executable).with_name("granian"))
    argv = [granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    return [*argv, "--workers", str(workers), "--loop", "uvloop", "--log-level", "warning", "--no-ws", target]


def start_gateway(
    procs: Processes,
    name: str,
    config: Path,
    *,
    cores: str | None,
    workers: int = 1,
    server: str = "uvicorn",
    extra_env: dict[str, str] | None = None,
) -> Server:
    """``genesis-gateway serve`` (or the same app under granian) with ``config``."""
    port = free_port()
    env = {
        "MISTRAL_API_KEY": "bench-upstream-key",
        "BENCH_AGENT_KEY": AGENT_KEY,
        "GATEWAY_LOG_FORMAT": "json",
        "GATEWAY_CONFIG": str(config),
        **(extra_env or {}),
    }
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if server == "granian":
        argv = granian_argv("gateway.asgi:create_from_env", port, workers=workers)
        if workers > 1:
            env["PROMETHEUS_MULTIPROC_DIR"] = str(procs.workdir / f"{name}-metrics")
            Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
    else:
        cli = str(Path(sys.executable).with_name("genesis-gateway"))
        argv = [cli, "serve", "--config", str(config), "--port", str(port), "--workers", str(workers)]
    proc = procs.start(name, argv, cores=cores, env=env)
    wait_port(port, proc, timeout=60)
    _wait_workers(proc, workers)
    return Server(proc, port)
