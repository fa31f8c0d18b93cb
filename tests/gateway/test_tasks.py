"""BackgroundTask: the start/stop life of a service's long-running coroutine."""

from __future__ import annotations

import asyncio

from gateway.tasks import BackgroundTask


async def test_start_runs_the_body_and_stop_cancels_and_awaits_it() -> None:
    """The body runs after start; stop cancels it and returns only once its cleanup has run."""
    events: list[str] = []
    started = asyncio.Event()

    async def body() -> None:
        events.append("started")
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            events.append("cleaned up")

    task = BackgroundTask("test-body", body)
    task.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    assert task.running
    await task.stop()
    assert events == ["started", "cleaned up"]
    assert not task.running


async def test_stop_without_start_is_a_no_op() -> None:
    """Closing a service that never started does nothing and raises nothing."""
    task = BackgroundTask("never", lambda: asyncio.sleep(0))
    await task.stop()
    assert not task.running
