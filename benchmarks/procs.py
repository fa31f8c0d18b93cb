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


_CGROUP_V1_CPU = Path("/sys/fs/cgroup/cpu")
_CGROUP_V2 = Path("/sys/fs/cgroup")


@dataclass
class CpuBudget:
    """A cgroup whose processes get at most ``cores`` cores' worth of CPU time, whichever cores they run on.

    The kernel's CFS bandwidth control: ``quota`` µs of CPU per ``period`` µs for the whole group
    (cgroup v1's ``cpu.cfs_quota_us``, v2's ``cpu.max``). A process started in it takes its
    children (a server's workers) with it. ``None`` from ``create`` where this machine does not let
    the harness make one (no cpu controller, not root).
    """

    path: Path

    @classmethod
    def create(cls, name: str, cores: float, period_us: int = 20_000) -> CpuBudget | None:
        quota = max(1_000, round(cores * period_us))
        try:
            if (_CGROUP_V1_CPU / "cpu.cfs_quota_us").exists():
                path = _CGROUP_V1_CPU / name
                path.mkdir(exist_ok=True)
                (path / "cpu.cfs_period_us").write_text(str(period_us))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
            elif "cpu" in (_CGROUP_V2 / "cgroup.controllers").read_text().split():
                with contextlib.suppress(OSError):  # already on, or the root's to give
                    (_CGROUP_V2 / "cgroup.subtree_control").write_text("+cpu")
                path = _CGROUP_V2 / name
                path.mkdir(exist_ok=True)
                (path / "cpu.max").write_text(f"{quota} {period_us}")
            else:
                return None
        except OSError:
            return None
        return cls(path)

    def enter(self) -> None:
        """Move the calling process into the group (in a child, before it execs)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        """Delete the group once its processes have exited (the kernel refuses while any is left)."""
        for _ in range(50):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)


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
    budgets: list[CpuBudget] = field(default_factory=list)

    def budget(self, name: str, cores: float) -> CpuBudget | None:
        """A CPU budget (see ``CpuBudget``) removed on ``close``; ``None`` where none can be made."""
        budget = CpuBudget.create(f"genesis-bench-{os.getpid()}-{name}", cores)
        if budget is not None:
            self.budgets.append(budget)
        return budget

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cores: str | None,
        env: Mapping[str, str] | None = None,
        budget: CpuBudget | None = None,
    ) -> Proc:
        """Start ``argv`` (pinned to ``cores`` with taskset when given, in ``budget`` when given), output to a log file."""
        log = self.workdir / f"{name}.log"
        full = ["taskset", "-c", cores, *argv] if cores else list(argv)

        def in_child() -> None:
            _raise_fd_limit()
            if budget is not None:
                budget.enter()

        with log.open("wb") as out:
            popen = subprocess.Popen(
                full,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                preexec_fn=in_child,  # noqa: PLW1509 - no threads run in this harness when it starts one
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
        """Stop everything still running, newest first; then remove the CPU budgets."""
        for proc in reversed(list(self.started)):
            self.stop(proc)
        for budget in self.budgets:
            budget.remove()
        self.budgets.clear()


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
