"""LoopShare: a background task takes at most its share of a busy event loop, and all of an idle one."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.sampling.share import LoopShare

TURN_S = 0.0003  # about one scoring of a short answer
REQUEST_S = 0.0002


def _burn(seconds: float) -> float:
    """Spin the thread's CPU clock forward by ``seconds``; return what it actually advanced."""
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass
    return time.thread_time() - start


async def _scorer(share: LoopShare, stop: asyncio.Event, spent: list[float]) -> None:
    while not stop.is_set():
        started = share.clock()
        spent.append(_burn(TURN_S))
        await share.pace(share.clock() - started)


async def _requests(stop: asyncio.Event, spent: list[float]) -> None:
    while not stop.is_set():
        spent.append(_burn(REQUEST_S))
        await asyncio.sleep(0)


async def _run_for(seconds: float, *tasks: asyncio.Task[None], stop: asyncio.Event) -> None:
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)


@pytest.mark.parametrize("fraction", [0.1, 0.3])
async def test_a_busy_loop_keeps_all_but_the_share(fraction: float) -> None:
    """With requests always waiting, the scorer's part of the loop's CPU stays near its share."""
    stop = asyncio.Event()
    scored: list[float] = []
    served: list[float] = []
    share = LoopShare(fraction)
    tasks = (
        asyncio.create_task(_scorer(share, stop, scored)),
        asyncio.create_task(_requests(stop, served)),
    )
    await _run_for(0.8, *tasks, stop=stop)
    taken = sum(scored) / (sum(scored) + sum(served))
    assert fraction * 0.5 < taken < fraction * 1.3


async def test_an_idle_loop_is_all_the_scorers() -> None:
    """With nothing else to run, the scorer is not held back to its share: its debt is forgiven at once."""
    stop = asyncio.Event()
    scored: list[float] = []
    began = time.monotonic()
    await _run_for(0.5, asyncio.create_task(_scorer(LoopShare(0.1), stop, scored)), stop=stop)
    assert sum(scored) > 0.4 * (time.monotonic() - began)  # held to its share it would be < 0.1


async def test_a_whole_share_only_yields_between_turns() -> None:
    """share = 1: no pacing, but the loop still gets a turn between two scorings."""
    share = LoopShare(1.0)
    ran: list[str] = []

    async def other() -> None:
        ran.append("request")

    task = asyncio.create_task(other())
    await share.pace(1.0)
    assert ran == ["request"]
    await task


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    """A share of nothing, less, or more than the whole loop is a configuration error."""
    with pytest.raises(ValueError, match="share"):
        LoopShare(share)
