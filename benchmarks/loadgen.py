"""wrk as the load generator: a Lua script per scenario (POST body, headers) and its parsed summary.

wrk (Debian's package) is a C load generator: one thread on the load generator's core drives the
connections, so the measured side is the only Python in the loop. The Lua ``done`` hook prints the
summary as one JSON line, latencies in microseconds.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def write_script(path: Path, body: str, headers: dict[str, str]) -> Path:
    """A wrk script that POSTs ``body`` with ``headers`` on every request."""
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body)}"]
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()]
    path.write_text("\n".join(lines) + "\n" + _DONE)
    return path


@dataclass
class Result:
    """What one wrk run measured (latencies in milliseconds)."""

    rps: float
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    """Socket errors, timeouts and non-2xx answers together."""
    cpu_s: float
    """wrk's own CPU time (user + system): what the load generator took from the machine."""

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def run_wrk(
    url: str, script: Path, *, connections: int, seconds: float, cores: str | None, timeout_s: float = 10.0
) -> Result:
    """Drive ``url`` for ``seconds`` with ``connections`` keep-alive connections on one thread."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={math.ceil(timeout_s)}s"]
    argv += ["-s", str(script), url]
    if cores:
        argv = ["taskset", "-c", cores, *argv]
    before = _children_cpu_s()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout_s + 30, check=False)
    cpu_s = _children_cpu_s() - before
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    raw = json.loads(line[len("WRKJSON ") :])
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return Result(
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        requests=raw["requests"],
        p50_ms=raw["p50"] / 1000,
        p90_ms=raw["p90"] / 1000,
        p99_ms=raw["p99"] / 1000,
        max_ms=raw["max"] / 1000,
        errors=errors,
        cpu_s=cpu_s,
    )


def _children_cpu_s() -> float:
    """CPU time of this process's children that have exited and been waited for (wrk, once it is done)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
