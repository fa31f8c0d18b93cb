"""The embedded scorer's share of its event loop: at most ``share`` of the CPU while requests are served.

The embedded home scores on the core that serves requests. Unbounded, scoring every answer halves
the throughput (docs/performance.md). After each scoring the scorer owes the rest of the loop
``spent × (1/share − 1)`` seconds of CPU before it may score again; it sleeps until the loop's
thread has spent that much on other work. (Counted in CPU, not wall time: while the machine runs
other processes, a wall-clock sleep would pay the debt with time nobody used.) When the
loop has nothing else to do the debt is forgiven: the scorer first yields once (``sleep(0)``,
which polls for I/O without blocking and runs whatever is ready), and if the event-loop thread's
CPU clock hardly moved meanwhile, no request was waiting, so an idle gateway still scores at full
speed. (A probe that sleeps a little would cost a millisecond: the loop's timers are as coarse as
``epoll_wait``'s timeout.) Samples that arrive faster than the share can score wait in the queue and,
past ``queue_max_size``, are dropped and counted — the request path never pays for them.

The CPU clock is the event-loop thread's (``time.thread_time``): what other processes on the
machine do neither counts as the scorer's work nor as the loop being busy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

OTHERS_RAN_S = 30e-6
"""CPU the loop's thread spends in one yield when something else ran: far more than a bare poll
(a few µs), far less than serving a request's step (tens to hundreds of µs)."""


class LoopShare:
    """Paces a background task to a share of its event loop's thread while other work is waiting."""

    def __init__(self, share: float, *, cpu_clock: Callable[[], float] = time.thread_time):
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], not {share}")
        self._others_per_own = 1 / share - 1
        self._cpu = cpu_clock
        self._owed = 0.0

    @property
    def bounded(self) -> bool:
        return self._others_per_own > 0

    def clock(self) -> float:
        """The CPU clock the share is counted on; read it before a turn and pass the difference to ``pace``."""
        return self._cpu()

    async def pace(self, spent_s: float) -> None:
        """After a turn that took ``spent_s`` of CPU: wait until the loop has had its share, or is idle."""
        if not self.bounded:
            await asyncio.sleep(0)  # still let waiting requests in between two turns
            return
        self._owed += spent_s * self._others_per_own
        while self._owed > 0:
            cpu = self._cpu()
            await asyncio.sleep(0)
            ran = self._cpu() - cpu
            if ran < OTHERS_RAN_S:
                self._owed = 0.0  # nothing else wanted the loop: nobody is owed anything
                return
            self._owed -= ran
            if self._owed > 0:
                cpu = self._cpu()
                await asyncio.sleep(self._owed)
                self._owed -= self._cpu() - cpu
