"""The benchmark's processes: a CPU budget caps what a process and its children may spend."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from benchmarks.procs import CpuBudget, Processes, cpu_seconds, serving_pids

_SPIN = "import os, time\nif os.fork() == 0:\n    pass\nend = time.monotonic() + 30\nwhile time.monotonic() < end:\n    pass\n"
"""A parent and the child it forks, each spinning on a core for up to 30 s."""


def _budget_or_skip(procs: Processes, cores: float) -> CpuBudget:
    budget = procs.budget("test", cores)
    if budget is None:
        pytest.skip("this machine lets no process make a cgroup with a CPU quota (needs root and a cpu controller)")
    return budget


def test_a_budget_caps_a_process_and_the_children_it_forks(tmp_path: Path) -> None:
    procs = Processes(tmp_path)
    try:
        budget = _budget_or_skip(procs, 0.3)
        proc = procs.start("spin", [sys.executable, "-c", _SPIN], cores=None, budget=budget)
        time.sleep(0.3)  # the fork
        pids = [proc.pid, *serving_pids(proc.pid)]
        assert len(pids) == 2
        before, started = cpu_seconds(pids), time.monotonic()
        time.sleep(1.5)
        share = (cpu_seconds(pids) - before) / (time.monotonic() - started)
        # Unbudgeted, the two would spend up to two cores; together they get 0.3 of one.
        assert 0.15 < share < 0.45
    finally:
        procs.close()


def test_close_removes_the_budgets_it_made(tmp_path: Path) -> None:
    procs = Processes(tmp_path)
    budget = _budget_or_skip(procs, 0.5)
    procs.start("sleep", [sys.executable, "-c", "import time; time.sleep(30)"], cores=None, budget=budget)
    assert budget.path.is_dir()
    procs.close()
    assert not budget.path.exists()
