"""structlog set up once: JSON lines in production, readable colours on a terminal.

Configured at process start (the CLI); afterwards a log call costs one dict and one write.
Prompts, answers and keys are never passed to a logger anywhere in the gateway.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Literal

import msgspec
import structlog


def _dumps(obj: Any, **_: Any) -> bytes:
    return msgspec.json.encode(obj)


class UtcTimestamp:
    """Adds ``timestamp`` as ISO 8601 UTC with microseconds, like ``TimeStamper(fmt="iso", utc=True)``.

    The date and time of day are formatted once per second and reused: every request logs one
    event, and building a ``datetime`` for each cost ~1.6 µs against ~0.4 µs here.
    """

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, _logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        event_dict["timestamp"] = f"{self._prefix}.{int((now - second) * 1_000_000):06d}Z"
        return event_dict


def configure_logging(fmt: Literal["auto", "json", "console"] = "auto", level: str = "info") -> None:
    """Configure structlog (and the stdlib root logger that libraries use) for this process."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        UtcTimestamp(),
    ]
    if use_json:
        processors = [
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(_dumps),
        ]
        factory: Any = structlog.BytesLoggerFactory(sys.stderr.buffer)
    else:
        processors = [*shared, structlog.dev.ConsoleRenderer()]
        factory = structlog.PrintLoggerFactory(sys.stderr)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(name)s %(message)s")
