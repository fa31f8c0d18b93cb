"""Config validation: the example file loads, and a bad file fails naming the dotted path of the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from gateway.app import build_state
from gateway.settings import ConfigError, GatewayConfig, Settings, UpstreamKind, load_config, parse_config
from gateway.upstream.factory import build_upstreams
from gateway.upstream.http import HttpUpstream
from tests.gateway.helpers import AGENTS, EXAMPLE

MINIMAL = """
upstreams:
  sim: {kind: simulated}
agents:
  support_agent:
    candidate: {model: "ft:x", upstream: sim}
    baseline: {model: base, upstream: sim}
"""


def edited(change: dict[str, object]) -> str:
    """The minimal config with one agent field replaced."""
    raw = yaml.safe_load(MINIMAL)
    raw["agents"]["support_agent"].update(change)
    return yaml.safe_dump(raw)


def failure(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.yaml", env=env or {})
    return str(info.value)


def test_example_config_loads_without_the_mistral_key() -> None:
    """examples/gateway.yaml validates with MISTRAL_API_KEY unset: the five agents, their ft models, prices."""
    config = load_config(EXAMPLE, env={})
    assert set(config.agents) == AGENTS
    assert config.upstreams["mistral"].base_url == "https://api.mistral.ai"
    assert config.upstreams["mistral"].api_key_env == "MISTRAL_API_KEY"
    for agent in config.agents.values():
        assert agent.candidate.model.startswith("ft:open-mistral-7b:5010731d:20251031:")
        assert agent.baseline.model == "open-mistral-7b"
        assert agent.candidate.model in config.prices
    assert config.agents["support_agent"].candidate.model.endswith(":f997bebc")


def test_example_config_reads_the_base_url_from_the_environment() -> None:
    """MISTRAL_BASE_URL replaces the default base URL, so the same file points at a local server."""
    config = load_config(EXAMPLE, env={"MISTRAL_BASE_URL": "http://127.0.0.1:9"})
    assert config.upstreams["mistral"].base_url == "http://127.0.0.1:9"


def test_building_upstreams_needs_the_mistral_key() -> None:
    """Only building the upstreams requires the key; its absence is a ConfigError naming the field."""
    config = load_config(EXAMPLE, env={})
    with pytest.raises(ConfigError, match=r"upstreams\.mistral\.api_key_env.*MISTRAL_API_KEY"):
        build_upstreams(config, {})
    upstreams = build_upstreams(config, {"MISTRAL_API_KEY": "k"})
    assert isinstance(upstreams["mistral"], HttpUpstream)
    assert upstreams["mistral"].kind is UpstreamKind.MISTRAL


def test_minimal_config_gets_defaults() -> None:
    """Omitted agent fields take their documented defaults."""
    agent = parse_config(MINIMAL, env={}).agents["support_agent"]
    assert (agent.candidate_share, agent.sample_rate, agent.enabled) == (50.0, 0.1, True)
    assert (agent.allow_force_variant, agent.fallback_to_baseline, agent.salt) == (False, True, None)


def test_share_over_100_names_the_field() -> None:
    """candidate_share 150 fails naming agents.support_agent.candidate_share."""
    message = failure(edited({"candidate_share": 150}))
    assert message.startswith("bad.yaml: ")
    assert "agents.support_agent.candidate_share" in message
    assert "100" in message


def test_unknown_upstream_reference_names_the_field() -> None:
    """A route to an undeclared upstream fails naming agents.<agent>.<variant>.upstream and the known ones."""
    message = failure(edited({"baseline": {"model": "base", "upstream": "nowhere"}}))
    assert "agents.support_agent.baseline.upstream" in message
    assert "'nowhere'" in message
    assert "known: sim" in message


def test_bad_agent_name_is_refused() -> None:
    """An agent name that is not a lower-case identifier fails, naming the agents field and the name."""
    raw = yaml.safe_load(MINIMAL)
    raw["agents"]["Support Agent!"] = raw["agents"].pop("support_agent")
    message = failure(yaml.safe_dump(raw))
    assert "agents" in message
    assert "'Support Agent!'" in message


def test_unknown_field_is_refused() -> None:
    """A misspelt field fails (extra fields are forbidden), naming its path."""
    message = failure(edited({"candidate_shares": 10}))
    assert "agents.support_agent.candidate_shares" in message


def test_upstream_without_base_url_is_refused() -> None:
    """A mistral upstream without base_url fails naming the upstream."""
    message = failure("upstreams:\n  m: {kind: mistral}\nagents: {}\n")
    assert "upstreams.m" in message
    assert "base_url" in message


def test_bad_kind_names_the_field() -> None:
    """An unknown upstream kind fails naming upstreams.<name>.kind."""
    message = failure("upstreams:\n  m: {kind: bedrock}\nagents: {}\n")
    assert "upstreams.m.kind" in message


def test_not_yaml_is_refused() -> None:
    """Text that is not YAML fails saying so."""
    assert "not valid YAML" in failure("upstreams: [unclosed\n  agents: {")


def test_top_level_must_be_a_mapping() -> None:
    """A YAML list or scalar at the top level fails."""
    assert "mapping" in failure("- a\n- b\n")


def test_unset_variable_without_default_names_the_field() -> None:
    """${VAR} with VAR unset and no default fails naming the variable and the dotted path where it is used."""
    text = "upstreams:\n  m: {kind: mistral, base_url: '${NO_SUCH_URL}'}\nagents: {}\n"
    message = failure(text)
    assert "NO_SUCH_URL" in message
    assert "upstreams.m.base_url" in message
    assert message.startswith("bad.yaml: ")


def test_variable_default_and_value() -> None:
    """${VAR:-default} takes the default when VAR is unset or empty, and VAR's value when set."""
    text = "upstreams:\n  m: {kind: mistral, base_url: '${URL:-http://d}'}\nagents: {}\n"
    assert parse_config(text, env={}).upstreams["m"].base_url == "http://d"
    assert parse_config(text, env={"URL": ""}).upstreams["m"].base_url == "http://d"
    assert parse_config(text, env={"URL": "http://v"}).upstreams["m"].base_url == "http://v"


def test_auth_key_naming_an_unknown_agent_is_refused() -> None:
    """An auth key limited to an agent the file does not declare fails naming the key."""
    raw = yaml.safe_load(MINIMAL)
    raw["auth"] = {"keys": [{"name": "bot", "key_env": "K", "agents": ["ghost_agent"]}]}
    message = failure(yaml.safe_dump(raw))
    assert "auth.keys.bot.agents" in message
    assert "ghost_agent" in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    """A path that cannot be read fails naming the path."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


def test_config_is_frozen() -> None:
    """A validated config cannot be changed in place."""
    config = parse_config(MINIMAL, env={})
    with pytest.raises(ValueError, match="frozen"):
        config.redis_url = "redis://x"  # type: ignore[misc]
    assert isinstance(config, GatewayConfig)


def test_settings_come_from_gateway_env_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """GATEWAY_* variables set the process settings; keyword arguments work without any."""
    monkeypatch.setenv("GATEWAY_REDIS_URL", "redis://r:6379/1")
    monkeypatch.setenv("GATEWAY_CONFIG", "/etc/gw.yaml")
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    settings = Settings()
    assert settings.redis_url == "redis://r:6379/1"
    assert settings.config == Path("/etc/gw.yaml")
    assert settings.port == 9000
    assert Settings(port=1234).port == 1234


def test_agent_named_like_a_served_model_is_refused() -> None:
    """An agent whose name is also a pass-through model would shadow it: refused, naming both places."""
    raw = yaml.safe_load(MINIMAL)
    raw["upstreams"]["sim"]["models"] = ["support_agent"]
    message = failure(yaml.safe_dump(raw))
    assert "agents.support_agent" in message
    assert "upstreams.sim.models" in message


def test_model_served_by_two_upstreams_is_refused() -> None:
    """The same pass-through model under two upstreams is ambiguous: refused, naming the second upstream."""
    raw = yaml.safe_load(MINIMAL)
    raw["upstreams"]["sim"]["models"] = ["base"]
    raw["upstreams"]["other"] = {"kind": "simulated", "models": ["base"]}
    message = failure(yaml.safe_dump(raw, sort_keys=False))
    assert "upstreams.other.models" in message
    assert "'base'" in message


def _top(change: dict[str, object]) -> str:
    """The minimal config with top-level fields added."""
    return yaml.safe_dump(yaml.safe_load(MINIMAL) | change)


def test_one_redis_prefix_for_flags_and_scoring() -> None:
    """redis_prefix defaults to genesis: and scoring's keys follow it unless scoring.key_prefix is set apart."""
    assert parse_config(MINIMAL).redis_prefix == parse_config(MINIMAL).scoring.key_prefix == "genesis:"
    shared = parse_config(_top({"redis_prefix": "acme:"}))
    assert (shared.redis_prefix, shared.scoring.key_prefix) == ("acme:", "acme:")
    apart = parse_config(_top({"redis_prefix": "acme:", "scoring": {"key_prefix": "acme-scores:"}}))
    assert (apart.redis_prefix, apart.scoring.key_prefix) == ("acme:", "acme-scores:")


def test_gateway_redis_prefix_overrides_the_file() -> None:
    """GATEWAY_REDIS_PREFIX (Settings.redis_prefix) moves the flags and derived scoring keys; set-apart ones stay."""
    assert Settings().redis_prefix is None
    shared = parse_config(_top({"redis_prefix": "acme:"}))
    state = build_state(Settings(redis_prefix="env:"), shared, registry=CollectorRegistry(), env={})
    assert (state.config.redis_prefix, state.config.scoring.key_prefix) == ("env:", "env:")
    assert build_state(Settings(), shared, registry=CollectorRegistry(), env={}).config.redis_prefix == "acme:"
    apart = parse_config(_top({"scoring": {"key_prefix": "scores:"}}))
    assert apart.with_redis_prefix("env:").scoring.key_prefix == "scores:"
