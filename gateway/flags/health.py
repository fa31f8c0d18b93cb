"""Redis health as the flag components see it: one log line per outage, a counter per error.

Every background part that talks to Redis reports through one ``RedisHealth``: ``failed`` on each
error (counted, so ``genesis_redis_errors_total`` shows the rate) and ``ok`` after each success. A
warning is logged when a component's outage begins and an info line when it ends — never per
request or per retry, so a long outage does not flood the log.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

_log = structlog.get_logger("gateway.flags")


class RedisHealth:
    """Outage bookkeeping per component (``flags_sync``, ``counts``, ``rollout``, ``request_index``, ...)."""

    def __init__(self, on_error: Callable[[str], None] | None = None):
        self._on_error = on_error
        self._down_since: dict[str, float] = {}

    def failed(self, component: str, exc: BaseException, *, impact: str = "serving on the last known flags") -> None:
        """Record an error; logs only when this starts an outage of ``component`` (saying what it costs)."""
        if self._on_error is not None:
            self._on_error(component)
        if component not in self._down_since:
            self._down_since[component] = time.monotonic()
            _log.warning(
                f"redis unreachable; {impact}",
                component=component,
                error=f"{type(exc).__name__}: {exc}",
            )

    def ok(self, component: str) -> None:
        """Record a success; logs when it ends an outage."""
        since = self._down_since.pop(component, None)
        if since is not None:
            _log.info("redis reachable again", component=component, outage_s=round(time.monotonic() - since, 3))

    def down(self, component: str) -> bool:
        """Whether ``component``'s last attempt failed."""
        return component in self._down_since
