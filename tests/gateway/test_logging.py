"""The log set-up: the cheap timestamp, and the request event written as structlog would write it."""

from __future__ import annotations

import asyncio
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from structlog.processors import TimeStamper
from structlog.testing import capture_logs

from gateway.logging import FLUSH_S, BufferedLineLogger, EventLog, UtcTimestamp, configure_logging

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


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The JSON log lines written to stderr since the last read."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_event_log_writes_the_line_structlog_writes(capsys: pytest.CaptureFixture[str]) -> None:
    """EventLog's line has the same keys, values and order as structlog's own logger's (timestamps aside),
    context variables bound by the application included."""
    configure_logging("json", "info")  # here, not in a fixture: pytest swaps stderr between phases
    try:
        fields = {"request_id": "r1", "agent": "qa_agent", "status": 200, "duration_ms": 1.5, "error": None}
        with structlog.contextvars.bound_contextvars(tenant="acme"):
            structlog.get_logger("gateway.request").info("request", **fields)
            EventLog("gateway.request", "request").info(**fields)
        theirs, ours = json_lines(capsys)
    finally:
        structlog.reset_defaults()
    assert ours["tenant"] == "acme"
    assert list(ours) == list(theirs)
    assert {k: v for k, v in ours.items() if k != "timestamp"} == {k: v for k, v in theirs.items() if k != "timestamp"}
    assert ours["event"] == "request"
    assert ours["level"] == "info"


def test_event_log_respects_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    """With the level at warning, the info event is not written."""
    configure_logging("json", "warning")
    try:
        EventLog("gateway.request", "request").info(request_id="r2")
        assert capsys.readouterr().err == ""
    finally:
        structlog.reset_defaults()


def test_event_log_follows_a_reconfiguration_when_loggers_are_not_cached() -> None:
    """Unconfigured (as in tests), each event goes through the processors in force, e.g. capture_logs."""
    log = EventLog("gateway.request", "request")
    with capture_logs() as first:
        log.info(request_id="a")
    with capture_logs() as second:
        log.info(request_id="b")
    assert [e["request_id"] for e in first] == ["a"]
    assert [e["request_id"] for e in second] == ["b"]


async def test_lines_logged_in_a_loop_are_written_together_soon_and_in_order() -> None:
    """Inside an event loop info lines wait in a buffer for at most FLUSH_S; a warning writes them
    at once, before itself; outside a loop every line is written at once."""
    out = io.BytesIO()
    logger = BufferedLineLogger(out)
    logger.info(b"one")
    logger.info(b"two")
    assert out.getvalue() == b""
    await asyncio.sleep(FLUSH_S * 3)
    assert out.getvalue() == b"one\ntwo\n"
    logger.info(b"three")
    logger.warning(b"four")
    assert out.getvalue() == b"one\ntwo\nthree\nfour\n"
    await asyncio.to_thread(logger.info, b"five")  # a thread without a loop: written through
    assert out.getvalue().endswith(b"four\nfive\n")


async def test_a_full_buffer_is_written_without_waiting() -> None:
    """Past 64 kB of buffered lines the buffer is written at once."""
    out = io.BytesIO()
    logger = BufferedLineLogger(out)
    for _ in range(700):
        logger.info(b"x" * 99)
    assert len(out.getvalue()) >= 64 * 1024
    assert set(out.getvalue().split(b"\n")[:-1]) == {b"x" * 99}


def test_a_line_buffered_in_a_loop_that_ended_is_written_by_the_next_loop() -> None:
    """A process may run one event loop after another (CLI commands do): a line buffered just before a
    loop closed, its timer never fired, is still written, by the next loop's timer."""
    out = io.BytesIO()
    logger = BufferedLineLogger(out)

    async def log(line: bytes, wait: float) -> None:
        logger.info(line)
        await asyncio.sleep(wait)

    asyncio.run(log(b"first", 0))
    assert out.getvalue() == b""
    asyncio.run(log(b"second", FLUSH_S * 3))
    assert out.getvalue() == b"first\nsecond\n"
    asyncio.run(log(b"third", 0))
    logger.info(b"fourth")  # no loop now: the closed loop's line goes out first
    assert out.getvalue() == b"first\nsecond\nthird\nfourth\n"
