"""Redis outage bookkeeping: one log line per outage, every error counted."""

from __future__ import annotations

from structlog.testing import capture_logs

from gateway.flags.health import RedisHealth


def test_an_outage_is_logged_once_and_every_error_counted() -> None:
    """Many failures of one component log one warning; the recovery logs one info; each failure is counted."""
    counted: list[str] = []
    health = RedisHealth(counted.append)
    with capture_logs() as logs:
        for _ in range(5):
            health.failed("flags_sync", ConnectionError("refused"))
        assert health.down("flags_sync")
        health.ok("flags_sync")
        health.ok("flags_sync")
    assert counted == ["flags_sync"] * 5
    assert [(e["log_level"], e["event"]) for e in logs] == [
        ("warning", "redis unreachable; serving on the last known flags"),
        ("info", "redis reachable again"),
    ]
    assert not health.down("flags_sync")


def test_components_have_separate_outages() -> None:
    """An outage of one component neither hides nor ends another's."""
    health = RedisHealth()
    with capture_logs() as logs:
        health.failed("flags_sync", OSError("x"))
        health.failed("counts", OSError("x"))
        health.ok("counts")
    assert [e.get("component") for e in logs] == ["flags_sync", "counts", "counts"]
    assert health.down("flags_sync") and not health.down("counts")
