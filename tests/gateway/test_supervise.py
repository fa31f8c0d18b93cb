"""``serve --workers N``: one SO_REUSEPORT socket per worker, connections spread, dead workers replaced."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from tests.gateway.test_cli import served_workers
from tests.support.servers import ROOT, free_port


def workers_of(pid: int) -> list[int]:
    """The supervisor's child processes."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            found += [int(p) for p in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


def sockets_of(pid: int) -> int:
    """How many sockets the process holds open."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_burst_of_connections_is_spread_over_the_workers(tmp_path: Path) -> None:
    """40 connections opened at once (as a pool or a load generator opens them) reach both workers:
    each has its own listening socket, so no worker can take them all."""
    with served_workers(tmp_path, 2) as (proc, base):
        port = int(base.rsplit(":", 1)[1])
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "two workers")
        workers = workers_of(proc.pid)
        before = {w: sockets_of(w) for w in workers}
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            for conn in held:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
            for conn in held:
                assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            gained = {w: sockets_of(w) - before[w] for w in workers}
        finally:
            for conn in held:
                conn.close()
    assert sum(gained.values()) >= 35, gained  # other sockets of the workers may close meanwhile
    assert all(n > 0 for n in gained.values()), gained


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    """SIGKILL one worker: the supervisor starts another on its socket and requests keep being answered;
    SIGTERM to the supervisor stops every worker and ends it."""
    with served_workers(tmp_path, 2) as (proc, base):
        wait_until(lambda: len(workers_of(proc.pid)) == 2, "two workers")
        victim, survivor = workers_of(proc.pid)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(set(workers_of(proc.pid)) - {victim, survivor}) == 1, "a new worker")
        for _ in range(10):  # a fresh connection each: the kernel sends some to the new worker's socket
            assert httpx2.get(base + "/healthz").status_code == 200
        workers = workers_of(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        out = proc.stdout.read().decode() if proc.stdout else ""
    assert f"worker {victim} exited" in out
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_workers_that_cannot_start_stop_the_supervisor_with_exit_1() -> None:
    """Workers that die at start again and again (here: no GATEWAY_CONFIG) end the supervisor with
    exit 1 and a line saying so, instead of a restart loop that never shows outside."""
    env = {k: v for k, v in os.environ.items() if k != "GATEWAY_CONFIG"}
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "gateway.supervise", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "workers keep exiting at start" in done.stderr
    assert "GATEWAY_CONFIG is not set" in done.stderr
