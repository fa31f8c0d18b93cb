"""The log set-up: the cheap timestamp processor writes what structlog's own ISO stamper writes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from structlog.processors import TimeStamper

from gateway.logging import UtcTimestamp

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def test_timestamp_is_iso_utc_with_microseconds_like_structlogs() -> None:
    """UtcTimestamp writes the shape TimeStamper(fmt='iso', utc=True) writes, and the same instant."""
    ours = UtcTimestamp()(None, "info", {})["timestamp"]
    theirs = TimeStamper(fmt="iso", utc=True)(None, "info", {})["timestamp"]
    assert ISO_UTC.match(ours)
    assert ISO_UTC.match(theirs)
    gap = datetime.fromisoformat(theirs) - datetime.fromisoformat(ours)
    assert 0 <= gap.total_seconds() < 1.0


def test_timestamp_follows_the_clock_across_seconds() -> None:
    """Each event gets the current time, not the cached second's: successive stamps never go back."""
    stamp = UtcTimestamp()
    seen = [datetime.fromisoformat(stamp(None, "info", {})["timestamp"]) for _ in range(2000)]
    assert seen == sorted(seen)
    assert abs((datetime.now(UTC) - seen[-1]).total_seconds()) < 1.0
