"""The analysis service: metrics per pass, the rollout gate, automatic rollback through the real flag store."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from gateway.experiments.service import AUTO_ACTOR, ExperimentService
from gateway.flags.model import FlagChange
from gateway.flags.redis_home import RedisKeys
from gateway.flags.redis_home import redis_client as new_client
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.rollout import MemoryStepLock, RolloutController
from gateway.flags.schedule import RolloutPlan, RolloutRequest
from gateway.flags.store import MemoryFlagStore, flags_from_config
from gateway.metrics.background import BackgroundMetrics
from gateway.metrics.experiments import ExperimentMetrics
from gateway.sampling.results import RedisScoreStore
from gateway.settings import ScoringSettings
from tests.conftest import REDIS_URL
from tests.experiments.helpers import TableResults, arm, experiment_config
from tests.experiments.served import record_scores

AGENT = "support_agent"


class Rig:
    """A service over a ``TableResults`` double, the real memory flag store and a fresh registry."""

    def __init__(self, **experiments: Any):
        self.config = experiment_config(**experiments)
        self.results = TableResults()
        self.flags = MemoryFlagStore(flags_from_config(self.config))
        self.registry = CollectorRegistry()
        self.service = ExperimentService(
            self.results,
            self.flags,
            self.config.experiments,
            ExperimentMetrics(self.registry),
            errors=BackgroundMetrics(self.registry),
        )

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def share(self, agent: str = AGENT) -> float:
        flags = self.flags.get(agent)
        assert flags is not None
        return flags.candidate_share

    def good(self, agent: str = AGENT) -> None:
        """Candidate clearly better than the baseline, above the threshold."""
        self.results.set(agent, arm(agent, "candidate", 500, 8.8), arm(agent, "baseline", 500, 8.2))

    def bad(self, agent: str = AGENT) -> None:
        """Candidate clearly worse and below the threshold."""
        self.results.set(agent, arm(agent, "candidate", 400, 7.2), arm(agent, "baseline", 400, 8.4))


async def test_a_pass_exports_every_series_with_its_labels() -> None:
    """Samples per variant, difference, interval and p per dimension, and a one-hot verdict per agent."""
    rig = Rig()
    rig.good()
    await rig.service.run_once()
    assert rig.sample("genesis_ab_samples", agent=AGENT, variant="candidate") == 500
    assert rig.sample("genesis_ab_samples", agent=AGENT, variant="baseline") == 500
    diff = rig.sample("genesis_ab_difference", agent=AGENT, dimension="overall")
    lower = rig.sample("genesis_ab_ci_lower", agent=AGENT, dimension="overall")
    upper = rig.sample("genesis_ab_ci_upper", agent=AGENT, dimension="overall")
    assert diff == pytest.approx(0.6)
    assert lower is not None and upper is not None and 0 < lower < 0.6 < upper
    p_value = rig.sample("genesis_ab_p_value", agent=AGENT, dimension="overall")
    assert p_value is not None and p_value < 0.001
    assert rig.sample("genesis_ab_difference", agent=AGENT, dimension="pass") is not None
    assert rig.sample("genesis_ab_verdict", agent=AGENT, verdict="promote") == 1
    for other in ("continue", "rollback", "inconclusive"):
        assert rig.sample("genesis_ab_verdict", agent=AGENT, verdict=other) == 0
    # The agent without scores: zero samples, "continue", and no difference series at all.
    assert rig.sample("genesis_ab_samples", agent="qa_agent", variant="candidate") == 0
    assert rig.sample("genesis_ab_verdict", agent="qa_agent", verdict="continue") == 1
    assert rig.sample("genesis_ab_difference", agent="qa_agent", dimension="overall") is None
    # The rollback counter exists at 0 for every agent, so increase() has a series before the first rollback.
    assert rig.sample("genesis_ab_rollbacks_total", agent="qa_agent") == 0


async def test_a_series_whose_data_is_gone_disappears() -> None:
    """When an agent's results are reset, its difference series go rather than keep a stale number."""
    rig = Rig()
    rig.good()
    await rig.service.run_once()
    rig.results.set(AGENT)
    await rig.service.run_once()
    assert rig.sample("genesis_ab_difference", agent=AGENT, dimension="overall") is None
    assert rig.sample("genesis_ab_verdict", agent=AGENT, verdict="continue") == 1


async def test_auto_rollback_sets_share_zero_once_and_leaves_an_operator_alone() -> None:
    """A rollback verdict sets 0 % as ab-analysis (audited, counted); a share raised afterwards is not overruled."""
    rig = Rig(auto_rollback=True)
    rig.bad()
    await rig.service.run_once()
    assert rig.share() == 0
    entry = (await rig.flags.history(AGENT, limit=1))[0]
    assert entry.actor == AUTO_ACTOR and "automatic a/b rollback" in entry.note
    assert rig.sample("genesis_ab_rollbacks_total", agent=AGENT) == 1
    await rig.flags.update(AGENT, FlagChange(candidate_share=20), actor="alice")
    await rig.service.run_once()
    assert rig.share() == 20
    assert rig.sample("genesis_ab_rollbacks_total", agent=AGENT) == 1
    # A new episode (the verdict left rollback and came back) acts again.
    rig.good()
    await rig.service.run_once()
    rig.bad()
    await rig.service.run_once()
    assert rig.share() == 0
    assert rig.sample("genesis_ab_rollbacks_total", agent=AGENT) == 2


async def test_without_auto_rollback_nothing_changes_and_the_gate_holds() -> None:
    """auto_rollback off (the default): the verdict says rollback, the share stays, the gate holds."""
    rig = Rig()
    rig.bad()
    await rig.service.run_once()
    assert rig.sample("genesis_ab_verdict", agent=AGENT, verdict="rollback") == 1
    assert rig.share() == 30
    assert await rig.service.check(AGENT) == "hold"
    assert rig.sample("genesis_ab_rollbacks_total", agent=AGENT) == 0


async def test_no_data_never_rolls_back_even_when_automatic() -> None:
    """With auto_rollback on and no scores at all the share is untouched and the gate holds, saying sampling is off."""
    rig = Rig(auto_rollback=True)
    await rig.service.run_once()
    assert rig.share() == 30
    assert await rig.service.check(AGENT) == "hold"
    report = await rig.service.evaluate(AGENT)
    assert report.verdict == "continue" and "sample rate is 0" in report.reasons[-1]


async def test_gate_answers_from_fresh_results() -> None:
    """check() reads the store now: proceed on a promote verdict, rollback on a rollback verdict when automatic."""
    rig = Rig(auto_rollback=True)
    rig.good()
    assert await rig.service.check(AGENT) == "proceed"
    rig.bad()
    assert await rig.service.check(AGENT) == "rollback"


async def test_a_failing_store_skips_only_that_agent() -> None:
    """One agent's results cannot be read: the pass still exports the other agent."""
    rig = Rig()
    rig.good()
    rig.results.broken.add("qa_agent")
    reports = await rig.service.run_once()
    assert AGENT in reports and "qa_agent" not in reports
    assert rig.sample("genesis_ab_verdict", agent=AGENT, verdict="promote") == 1
    assert rig.sample("genesis_background_errors_total", component="ab_analysis") == 1


async def test_the_timer_analyses_until_closed() -> None:
    """start() runs a pass at once and then every interval_s; close() stops it."""
    rig = Rig(interval_s=0.05)
    await rig.service.start()
    try:
        deadline = time.monotonic() + 5
        while rig.sample("genesis_ab_verdict", agent=AGENT, verdict="continue") != 1:
            assert time.monotonic() < deadline, "no pass within 5 s"
            await asyncio.sleep(0.02)
        rig.good()
        while rig.sample("genesis_ab_verdict", agent=AGENT, verdict="promote") != 1:
            assert time.monotonic() < deadline, "no second pass within 5 s"
            await asyncio.sleep(0.02)
        assert rig.service.latest(AGENT) is not None
    finally:
        await rig.service.close()


async def test_promote_and_rollback_go_through_the_flag_store() -> None:
    """promote sets 100 %, rollback 0 %, each audited under the given actor and ending a running schedule."""
    rig = Rig()
    plan = RolloutPlan.start(RolloutRequest(steps=(5, 50, 100), interval_s=60), now=time.time(), actor="alice")
    await rig.flags.update(AGENT, FlagChange(candidate_share=5, rollout=plan), actor="alice")
    flags = await rig.service.promote(AGENT, actor="bob")
    assert flags.candidate_share == 100 and flags.rollout is None
    flags = await rig.service.rollback(AGENT, actor="bob")
    assert flags.candidate_share == 0
    assert [e.actor for e in await rig.flags.history(AGENT, limit=2)] == ["bob", "bob"]
    assert rig.sample("genesis_ab_rollbacks_total", agent=AGENT) == 1


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_the_rollout_controller_pauses_on_no_data_steps_on_promote_and_rolls_back() -> None:
    """With the service as its gate: no scores hold the 5 % step, a promote verdict lets it step, a bad candidate rolls back."""
    rig, clock = Rig(auto_rollback=True), Clock()
    controller = RolloutController(rig.flags, MemoryStepLock(clock=clock), rig.service, clock=clock)
    plan = RolloutPlan.start(RolloutRequest(steps=(5, 25, 100), interval_s=60), now=clock.now, actor="alice")
    await rig.flags.update(AGENT, FlagChange(candidate_share=5, rollout=plan), actor="alice")
    clock.now += 61
    await controller.tick()
    assert rig.share() == 5  # held: nothing to judge yet
    rig.good()
    clock.now += 11  # the step lock of the held attempt has expired
    await controller.tick()
    assert rig.share() == 25
    rig.bad()
    clock.now += 61
    await controller.tick()
    assert rig.share() == 0
    assert (await rig.flags.history(AGENT, limit=1))[0].actor == "rollout-gate"


@pytest.mark.redis
async def test_production_homes_redis_results_and_redis_flags(redis_client: aioredis.Redis, redis_prefix: str) -> None:
    """With the Redis score store and the Redis flag store, a bad candidate is analysed and rolled back through Redis."""
    config = experiment_config(auto_rollback=True)
    results = RedisScoreStore(redis_client, ScoringSettings(key_prefix=redis_prefix))
    flags = RedisFlagStore(new_client(REDIS_URL), flags_from_config(config), keys=RedisKeys(redis_prefix))
    await flags.start()
    try:
        await record_scores(results, AGENT, "candidate", 160, mean=7.0, seed=3)
        await record_scores(results, AGENT, "baseline", 160, mean=8.5, seed=4)
        registry = CollectorRegistry()
        service = ExperimentService(results, flags, config.experiments, ExperimentMetrics(registry))
        reports = await service.run_once()
        assert reports[AGENT].verdict == "rollback"
        assert reports[AGENT].samples == {"candidate": 160, "baseline": 160}
        assert (await flags.history(AGENT, limit=1))[0].actor == AUTO_ACTOR
        current = flags.get(AGENT)
        assert current is not None and current.candidate_share == 0
        assert registry.get_sample_value("genesis_ab_rollbacks_total", {"agent": AGENT}) == 1
    finally:
        await flags.close()
