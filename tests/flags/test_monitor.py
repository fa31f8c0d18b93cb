"""The flag gauges: set from the local copy and the assignment counts, under the names dashboards use."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from gateway.app import build_state
from gateway.flags.counts import MemoryAssignmentCounter
from gateway.flags.model import FlagChange
from gateway.flags.monitor import FlagMonitor
from gateway.flags.schedule import RolloutPlan, RolloutRequest
from gateway.flags.store import MemoryFlagStore, flags_from_config
from gateway.metrics import FlagMetrics
from gateway.metrics.background import BACKGROUND_COMPONENTS
from gateway.settings import Settings
from tests.flags.helpers import flags_config


def _monitor() -> tuple[FlagMonitor, MemoryFlagStore, MemoryAssignmentCounter, CollectorRegistry]:
    registry = CollectorRegistry()
    store, counter = MemoryFlagStore(flags_from_config(flags_config())), MemoryAssignmentCounter()
    return FlagMonitor(store, counter, FlagMetrics(registry)), store, counter, registry


async def test_flag_gauges_follow_the_local_copy() -> None:
    """Version, share, enabled and the rollout step of each agent are exported; staleness is 0 in memory."""
    monitor, store, _, registry = _monitor()
    monitor.refresh_flags()
    assert registry.get_sample_value("genesis_flag_version", {"agent": "support_agent"}) == 1
    assert registry.get_sample_value("genesis_candidate_share_percent", {"agent": "support_agent"}) == 30
    assert registry.get_sample_value("genesis_rollout_step", {"agent": "qa_agent"}) == 0
    assert registry.get_sample_value("genesis_flags_staleness_seconds") == 0
    plan = RolloutPlan.start(RolloutRequest(steps=(5, 25, 60), interval_s=60), now=0, actor="alice")
    await store.update("support_agent", FlagChange(candidate_share=5, rollout=plan), actor="alice")
    await store.update("qa_agent", FlagChange(enabled=False), actor="alice")
    monitor.refresh_flags()
    labels = {"agent": "support_agent"}
    assert registry.get_sample_value("genesis_flag_version", labels) == 2
    assert registry.get_sample_value("genesis_candidate_share_percent", labels) == 5
    assert registry.get_sample_value("genesis_rollout_step", labels) == 1
    assert registry.get_sample_value("genesis_rollout_target_share_percent", labels) == 60
    assert registry.get_sample_value("genesis_agent_enabled", {"agent": "qa_agent"}) == 0


async def test_srm_gauges_flag_a_skewed_split() -> None:
    """A split far from the share sets p below 0.001 and the detected flag; a fair one does not."""
    monitor, _, counter, registry = _monitor()
    for _ in range(300):
        counter.count("support_agent", "candidate", "hash", phase=1)  # 30 % expected, 75 % observed
    for _ in range(100):
        counter.count("support_agent", "baseline", "hash", phase=1)
    for variant in ("candidate", "baseline"):
        for _ in range(50):
            counter.count("qa_agent", variant, "hash", phase=1)
    await monitor.refresh_srm()
    assert registry.get_sample_value("genesis_srm_detected", {"agent": "support_agent"}) == 1
    assert registry.get_sample_value("genesis_srm_p_value", {"agent": "support_agent"}) < 0.001  # type: ignore[operator]
    assert registry.get_sample_value("genesis_srm_detected", {"agent": "qa_agent"}) == 0
    assert registry.get_sample_value("genesis_srm_p_value", {"agent": "qa_agent"}) == 1.0


def test_redis_error_series_exist_from_the_start() -> None:
    """Each Redis component's error counter exists at 0 before any error, so rate() has a series."""
    registry = CollectorRegistry()
    metrics = FlagMetrics(registry)
    assert registry.get_sample_value("genesis_redis_errors_total", {"component": "flags_sync"}) == 0
    metrics.redis_error("counts")
    assert registry.get_sample_value("genesis_redis_errors_total", {"component": "counts"}) == 1


def test_background_error_series_exist_from_the_start_in_a_gateway() -> None:
    """A built gateway exports genesis_background_errors_total at 0 for every background loop."""
    registry = CollectorRegistry()
    build_state(Settings(), flags_config(), registry=registry)
    for component in BACKGROUND_COMPONENTS:
        assert registry.get_sample_value("genesis_background_errors_total", {"component": component}) == 0
