"""Profile the gateway under load: py-spy samples one gateway process while wrk drives it.

    python -m benchmarks.profile --seconds 10 --stream --out /tmp/gw.txt

Writes py-spy's collapsed stacks (``flamegraph.pl`` or speedscope read them) and prints the
frames with the most samples, inclusive and by themselves, and the samples of each source file by
themselves. Needs ``py-spy`` in the venv (``pip install py-spy``).

py-spy samples without stopping the process (``--nonblocking``) unless ``--blocking`` is given.
Stopping it to read a consistent stack charges system calls far beyond their cost: in blocking mode
``asyncio.get_running_loop()`` (a ``getpid`` call, ~0.1 µs) took 3.7 % of a gateway's samples under
load, against 0.4 % for its whole file without stopping. Without stopping, some stacks are read
half-way and come out cut short, so inclusive shares run low; the own shares and the files' are fair.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.loadgen import write_script
from benchmarks.procs import Processes
from benchmarks.run import _headers
from benchmarks.targets import (
    FIXED_AGENT,
    drop_redis_keys,
    gateway_config,
    start_gateway,
    start_nginx,
    start_paced,
    start_passthrough,
)
from benchmarks.upstream import MODEL, request_body

_LINE = re.compile(r":\d+\)$")


def summarise(collapsed: Path, top: int) -> str:
    """The ``top`` frames by inclusive and by own samples, from py-spy's collapsed output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = [_LINE.sub(")", f) for f in stack.split(";")]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    files: collections.Counter[str] = collections.Counter()
    for frame, n in own.items():
        files[_file_of(frame)] += n
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    out += ["", "own:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    out += ["", "own, by file:"]
    out += [f"{100 * n / total:5.1f}%  {f}" for f, n in files.most_common(top)]
    return "\n".join(out)


def _file_of(frame: str) -> str:
    """``gateway/proxy.py`` of ``ChatProxy._handle (gateway/proxy.py)``; a frame without a file as it is."""
    head, sep, tail = frame.rpartition(" (")
    return tail.removesuffix(")") if sep and head else frame


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--stream", action="store_true")
    p.add_argument("--sample-rate", type=float, default=0.0)
    p.add_argument("--passthrough", action="store_true", help="profile the passthrough instead")
    p.add_argument("--redis", action="store_true", help="the production homes in the local Redis (sample stream)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/profile.txt"))
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--blocking", action="store_true", help="stop the process for each sample (see the docstring)")
    a = p.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    procs = Processes(Path(tempfile.mkdtemp(prefix="genesis-profile-")))
    try:
        nginx = start_nginx(procs, "0")
        paced = start_paced(procs, "0")
        prefix = f"genesis-profile-{os.getpid()}:" if a.redis else None
        config = gateway_config(
            procs.workdir,
            "gw",
            nginx_port=nginx.port,
            paced_port=paced.port,
            sample_rate=a.sample_rate,
            slow_model="pace-5x4",
            redis_prefix=prefix,
        )
        if a.passthrough:
            gw = start_passthrough(procs, "passthrough", nginx, cores="1", server="uvicorn")
        else:
            env = {"GATEWAY_REDIS_PREFIX": prefix + "flags:"} if prefix else None
            gw = start_gateway(procs, "gw", config, cores="1", extra_env=env)
        script = write_script(
            procs.workdir / "load.lua",
            request_body(MODEL if a.passthrough else FIXED_AGENT, stream=a.stream),
            _headers(gateway=not a.passthrough, stream=a.stream),
        )
        wrk = ["taskset", "-c", "0", "wrk", "-t1", f"-c{a.connections}", f"-d{a.seconds + 2}s", "-s", str(script)]
        load = subprocess.Popen([*wrk, gw.url + "/v1/chat/completions"], stdout=subprocess.DEVNULL)
        collapsed = a.out
        record = [spy, "record", "--pid", str(gw.pids()[0]), "--duration", str(a.seconds), "--rate", "500"]
        record += [] if a.blocking else ["--nonblocking"]
        subprocess.run([*record, "--format", "raw", "-o", str(collapsed)], check=True, capture_output=True)
        load.wait(timeout=30)
        print(summarise(collapsed, a.top))
    finally:
        procs.close()
        if a.redis:
            drop_redis_keys(f"genesis-profile-{os.getpid()}:")
        shutil.rmtree(procs.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
