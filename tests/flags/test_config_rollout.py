"""A staged rollout declared in the YAML: it seeds the agent's flags like the rest of the file."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.flags.model import CONFIG_ACTOR, AgentFlags, FlagChange
from gateway.flags.redis_home import RedisKeys
from gateway.flags.redis_store import RedisFlagStore
from gateway.flags.store import FlagStore, MemoryFlagStore, flags_from_config
from gateway.settings import GatewayConfig
from tests.flags.conftest import redis_client_for_test
from tests.flags.helpers import config_dict

ROLLOUT = {"steps": [5, 25, 100], "interval_s": 1800}


def _config(rollout: dict[str, Any] | None = ROLLOUT, **support: Any) -> GatewayConfig:
    raw = config_dict()
    agent = raw["agents"]["support_agent"]
    del agent["candidate_share"]
    agent.update(support)
    if rollout is not None:
        agent["rollout"] = rollout
    return GatewayConfig.model_validate(raw)


def test_the_first_step_is_the_share_and_the_schedule_starts_with_the_flags() -> None:
    """From the file, the agent starts at the first step, the next due one interval later, started by 'config'."""
    flags = flags_from_config(_config(), now=1000.0)["support_agent"]
    assert flags.candidate_share == 5.0
    assert flags.rollout is not None
    assert (flags.rollout.steps, flags.rollout.step, flags.rollout.next_at) == ((5, 25, 100), 0, 2800.0)
    assert flags.rollout.started_by == CONFIG_ACTOR
    assert flags.splitter.threshold == 500


def test_a_one_step_rollout_is_just_a_share() -> None:
    """A schedule of one step leaves nothing to carry out: the share, and no plan."""
    flags = flags_from_config(_config({"steps": [40], "interval_s": 60}), now=0.0)["support_agent"]
    assert (flags.candidate_share, flags.rollout) == (40.0, None)


@pytest.mark.parametrize(
    ("rollout", "support", "message"),
    [
        (ROLLOUT, {"candidate_share": 5}, "either candidate_share or rollout"),
        (ROLLOUT, {"enabled": False}, "killed agent"),
        ({"steps": [50, 25], "interval_s": 60}, {}, "strictly increasing"),
        ({"steps": [5, 150], "interval_s": 60}, {}, "within 0–100"),
        ({"steps": [5, 50]}, {}, "interval_s"),
    ],
)
def test_a_rollout_the_gateway_could_not_carry_out_is_refused_at_load(
    rollout: dict[str, Any], support: dict[str, Any], message: str
) -> None:
    """A share beside the rollout, a killed agent, bad steps or a missing interval fail when the file is read."""
    with pytest.raises(ValidationError, match=message):
        _config(rollout, **support)


@pytest.mark.redis
@pytest.mark.parametrize("home", ["memory", "redis"])
async def test_each_home_serves_the_declared_schedule(home: str, redis_prefix: str) -> None:
    """Memory and Redis stores seeded from the file both serve the plan the rollout controller steps through."""
    seeds = flags_from_config(_config())
    store: FlagStore = (
        MemoryFlagStore(seeds)
        if home == "memory"
        else RedisFlagStore(redis_client_for_test(), seeds, keys=RedisKeys(redis_prefix))
    )
    await store.start()
    try:
        assert store.get("support_agent") == seeds["support_agent"]
    finally:
        await store.close()


@pytest.mark.redis
async def test_flags_already_in_redis_win_over_the_files_rollout(redis_prefix: str) -> None:
    """A replica started later with a rollout in its file does not restart or override what runs in Redis."""
    keys = RedisKeys(redis_prefix)
    first = RedisFlagStore(redis_client_for_test(), flags_from_config(_config(rollout=None)), keys=keys)
    await first.start()
    try:
        changed = await first.update("support_agent", FlagChange(candidate_share=40), actor="alice")
    finally:
        await first.close()
    later = RedisFlagStore(redis_client_for_test(), flags_from_config(_config()), keys=keys)
    await later.start()
    try:
        served: AgentFlags | None = later.get("support_agent")
    finally:
        await later.close()
    assert served == changed
    assert served is not None and (served.candidate_share, served.rollout) == (40.0, None)
