"""``serve --workers N``: N uvicorn processes, each accepting on its own socket bound to the port.

uvicorn's own ``--workers`` makes every worker accept from one shared socket, and whichever worker
wakes first takes every connection waiting: a client that opens its connections in a burst (a
load balancer, an agent's connection pool, wrk) can land all of them on one worker while the
others idle — measured in ``benchmarks/`` (docs/performance.md): rounds of two workers that served
no more than one. Here each worker has its own listening socket with ``SO_REUSEPORT``, and the
kernel spreads new connections over the sockets.

The supervisor binds the sockets (so a port in use fails at once, here), starts one worker per
socket (``python -m gateway.serving --fd N``), starts a new one on the same socket when a worker
dies (and gives up, exit 1, when workers keep dying at start), and on SIGTERM or SIGINT passes
SIGTERM on and waits for the workers' graceful shutdown.
It imports nothing but the standard library: it only holds the sockets and waits.

    python -m gateway.supervise --host 127.0.0.1 --port 8080 --workers 4
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import threading
import time
from types import FrameType

GRACE_S = 15.0
"""How long workers get to finish after SIGTERM (uvicorn's graceful timeout is 10 s) before SIGKILL."""
_RESTART_PAUSE_S = 1.0
"""The least time between two starts on one socket: a worker that dies at start-up does not spin."""
_EARLY_S = 5.0
_EARLY_DEATHS = 5
"""A worker that dies within ``_EARLY_S`` of its start this many times in a row cannot start (a bad
environment, a broken install): the supervisor stops and exits 1, so that the failure shows where
the process is watched (systemd, Kubernetes) instead of as a restart loop inside it."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT``, listening, inheritable."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Keeps one worker process running per listening socket until told to stop."""

    def __init__(self, sockets: list[socket.socket]):
        self._sockets = sockets
        self._workers: list[subprocess.Popen[bytes] | None] = [None] * len(sockets)
        self._started_at = [0.0] * len(sockets)
        self._early_deaths = [0] * len(sockets)
        self._stop = threading.Event()
        self._failed = False

    def stop(self, signum: int = 0, _frame: FrameType | None = None) -> None:
        self._stop.set()

    def run(self) -> int:
        while not self._stop.is_set():
            for i in range(len(self._workers)):
                self._tend(i)
            self._stop.wait(0.2)
        self._shut_down()
        return 1 if self._failed else 0

    def _tend(self, i: int) -> None:
        """Note a worker that died, and start one on its socket (not twice within ``_RESTART_PAUSE_S``)."""
        worker = self._workers[i]
        if worker is not None and worker.poll() is not None:
            early = time.monotonic() - self._started_at[i] < _EARLY_S
            self._early_deaths[i] = self._early_deaths[i] + 1 if early else 0
            if self._early_deaths[i] >= _EARLY_DEATHS:
                _say(f"workers keep exiting at start (last: {worker.returncode}); stopping")
                self._failed = True
                self._stop.set()
                return
            _say(f"worker {worker.pid} exited with {worker.returncode}; starting another")
            self._workers[i] = worker = None
        if worker is None and time.monotonic() - self._started_at[i] >= _RESTART_PAUSE_S:
            self._workers[i] = self._start(i)

    def _start(self, i: int) -> subprocess.Popen[bytes]:
        self._started_at[i] = time.monotonic()
        fd = self._sockets[i].fileno()
        return subprocess.Popen([sys.executable, "-m", "gateway.serving", "--fd", str(fd)], pass_fds=[fd])

    def _shut_down(self) -> None:
        running = [w for w in self._workers if w is not None and w.poll() is None]
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for worker in running:
            try:
                worker.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _say(message: str) -> None:
    print(f"genesis-gateway supervisor: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Run N gateway workers, one SO_REUSEPORT socket each.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args(argv)
    try:
        sockets = [listening_socket(a.host, a.port) for _ in range(max(1, a.workers))]
    except OSError as exc:
        _say(f"cannot listen on {a.host}:{a.port}: {exc.strerror}")
        return 2
    supervisor = Supervisor(sockets)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
