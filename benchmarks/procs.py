"""The processes a benchmark run starts: launched pinned to cores, waited for, always stopped.

Every process goes into one ``Processes`` group whose ``close`` (called from ``finally``, and on
SIGINT/SIGTERM through ``KeyboardInterrupt``) terminates each by its own process group, then kills
what is left. Nothing is ever stopped by name.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raise_fd_limit() -> None:
    """In the child: 1,000 streams need ~2,000 sockets; lift the soft limit to the hard one."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.setpgrp()  # its own group, so stopping it also stops its workers


@dataclass
class Proc:
    """One started process."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, lines: int = 20) -> str:
        """The end of its output, for error messages."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Processes:
    """Starts processes and stops every one of them on ``close``."""

    workdir: Path
    started: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], *, cores: str | None, env: Mapping[str, str] | None = None) -> Proc:
        """Start ``argv`` (pinned to ``cores`` with taskset when given), output to a log file."""
        log = self.workdir / f"{name}.log"
        full = ["taskset", "-c", cores, *argv] if cores else list(argv)
        with log.open("wb") as out:
            popen = subprocess.Popen(
                full,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                preexec_fn=_raise_fd_limit,  # noqa: PLW1509 - no threads run in this harness when it starts one
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 10.0) -> None:
        """Stop one process (and its process group): SIGTERM, then SIGKILL after ``timeout``."""
        if proc.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.popen.wait(5)
        # Workers a supervisor forked may outlive it for a moment: the group is ours alone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc in self.started:
            self.started.remove(proc)

    def close(self) -> None:
        """Stop everything still running, newest first."""
        for proc in reversed(list(self.started)):
            self.stop(proc)


def wait_port(port: int, proc: Proc, timeout: float = 30.0) -> None:
    """Wait until something accepts connections on ``port``; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not listen on {port} within {timeout:.0f}s:\n{proc.tail()}")


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (uvicorn's or granian's workers)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(p) for p in text.split()]
    return found


def memory_kb(pid: int, field_name: str = "VmRSS") -> int:
    """``VmRSS`` (or ``VmHWM``, the peak) of a process in kB; 0 when it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def serving_pids(pid: int) -> list[int]:
    """The processes that serve requests: the workers when ``pid`` supervises some, else itself.

    ``taskset`` execs its command, so ``pid`` is the server itself.
    """
    workers = children(pid)
    return workers or [pid]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of ``pids`` so far (threads included)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def settle(pids: Sequence[int], *, quiet: float = 0.05, limit_s: float = 20.0) -> None:
    """Wait until ``pids`` use less than ``quiet`` of a core (a scoring backlog drained), at most ``limit_s``."""
    deadline = time.monotonic() + limit_s
    before = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = cpu_seconds(pids)
        if now - before < quiet * 0.3:
            return
        before = now
