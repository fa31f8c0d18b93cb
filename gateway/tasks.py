"""One named background task per service: started with the app, cancelled and awaited when it closes.

Services (flag sync, count flushing, the rollout controller, the A/B analysis, queue writers) each
own one long-running coroutine; this keeps their start/close identical and leak-free.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class BackgroundTask:
    """Runs ``body()`` as a task named ``name`` between ``start()`` and ``stop()``."""

    def __init__(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]):
        self._name = name
        self._body = body
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Spawn the task (again, if it was stopped)."""
        self._task = asyncio.create_task(self._body(), name=self._name)

    async def stop(self) -> None:
        """Cancel the task and wait until it has finished; a no-op when it is not running."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
