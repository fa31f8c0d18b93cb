"""``genesis-gateway flags ...`` against a real gateway on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import typer
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner, Result

from gateway.app import build_state, create_app
from gateway.cli import app as root_app
from gateway.cli.flags_cmd import AdminClient, app, parse_duration, parse_overrides
from gateway.flags.rollout import GateDecision
from gateway.settings import Settings
from gateway.state import GatewayState
from tests.flags.helpers import ADMIN_TOKEN, NAMED_TOKENS, READ_TOKEN, flags_config, wait_until
from tests.support.servers import free_port, serve_app


@dataclass
class Served:
    url: str
    state: GatewayState

    def run(self, *args: str, token: str | None = ADMIN_TOKEN) -> Result:
        env = {"GATEWAY_ADMIN_TOKEN": token or "", "COLUMNS": "200"}  # wide enough that rich does not fold cells
        return CliRunner().invoke(app, [*args, "--url", self.url], env=env)


@pytest.fixture
def gateway() -> Iterator[Served]:
    """A gateway with the memory store and the named admin tokens alice (rw) and grafana (ro)."""
    state = build_state(Settings(admin_tokens=NAMED_TOKENS), flags_config(), registry=CollectorRegistry())
    with serve_app(create_app(state)) as url:
        yield Served(url, state)


def test_list_shows_every_agent(gateway: Served) -> None:
    """``flags list`` prints a table with each agent, its share and version."""
    result = gateway.run("list")
    assert result.exit_code == 0, result.output
    assert "support_agent" in result.output and "qa_agent" in result.output
    assert "30" in result.output and "candidate %" in result.output


def test_set_changes_share_and_pins_a_unit(gateway: Served) -> None:
    """``flags set --share --override`` changes the gateway's flags and prints the new version."""
    result = gateway.run("set", "support_agent", "--share", "25", "--override", "vip=candidate", "--sample-rate", "0.5")
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output and "25 %" in result.output
    flags = gateway.state.flags.get("support_agent")
    assert flags is not None and (flags.candidate_share, flags.sample_rate) == (25.0, 0.5)
    assert flags.overrides == {"vip": "candidate"}
    shown = gateway.run("show", "support_agent")
    assert shown.exit_code == 0 and "vip → candidate" in shown.output


def test_kill_revive_and_history(gateway: Served) -> None:
    """Kill and revive flip the switch; history lists both with the token's name as actor."""
    killed = gateway.run("kill", "support_agent")
    assert killed.exit_code == 0 and "KILLED" in killed.output
    assert gateway.state.flags.get("support_agent").enabled is False  # type: ignore[union-attr]
    assert gateway.run("revive", "support_agent").exit_code == 0
    history = gateway.run("history", "support_agent")
    assert history.exit_code == 0, history.output
    assert history.output.count("alice") == 2 and "kill" in history.output and "revive" in history.output


def test_rollout_start_and_stop(gateway: Served) -> None:
    """``flags rollout --steps --every`` starts a schedule at its first step; ``--stop`` ends it."""
    started = gateway.run("rollout", "qa_agent", "--steps", "5,25,50,100", "--every", "30m")
    assert started.exit_code == 0, started.output
    flags = gateway.state.flags.get("qa_agent")
    assert flags is not None and flags.rollout is not None and flags.rollout.interval_s == 1800
    assert "step 1/4" in started.output
    assert gateway.run("rollout", "qa_agent", "--stop").exit_code == 0
    assert gateway.state.flags.get("qa_agent").rollout is None  # type: ignore[union-attr]


class HoldGate:
    """A quality gate that holds every step."""

    async def check(self, agent: str) -> GateDecision:
        return "hold"


def test_a_held_step_is_shown_with_its_gate_answer() -> None:
    """A step the gate holds: the API's rollout has last_gate and held_since, and `flags show` says it is held."""
    state = build_state(
        Settings(admin_tokens=NAMED_TOKENS), flags_config(), registry=CollectorRegistry(), rollout_gate=HoldGate()
    )
    with serve_app(create_app(state)) as url:
        served = Served(url, state)
        assert served.run("rollout", "qa_agent", "--steps", "20,30", "--every", "1s").exit_code == 0
        wait_until(lambda: state.flags.get("qa_agent").rollout.held_since is not None, what="the hold recorded")  # type: ignore[union-attr]
        plan = AdminClient(url, ADMIN_TOKEN).call("GET", "/admin/agents/qa_agent")["rollout"]
        assert plan["last_gate"] == "hold" and plan["held_since"] > 0
        shown = served.run("show", "qa_agent")
        assert shown.exit_code == 0, shown.output
        assert "held by the quality gate since" in shown.output and "last answer: hold" in shown.output


def test_srm_table(gateway: Served) -> None:
    """``flags srm`` prints each agent's counts and check."""
    result = gateway.run("srm")
    assert result.exit_code == 0, result.output
    assert "insufficient_data" in result.output and "p-value" in result.output


def test_errors_are_one_clear_line(gateway: Served) -> None:
    """A refused change prints the gateway's message and exits 1, changing nothing."""
    result = gateway.run("set", "support_agent", "--share", "150")
    assert result.exit_code == 1 and "candidate_share" in result.output
    unknown = gateway.run("kill", "nobody")
    assert unknown.exit_code == 1 and "404" in unknown.output and "nobody" in unknown.output
    read_only = gateway.run("kill", "support_agent", token=READ_TOKEN)
    assert read_only.exit_code == 1 and "403" in read_only.output and "read-only" in read_only.output
    assert gateway.state.flags.get("support_agent").version == 1  # type: ignore[union-attr]


def test_missing_token_says_what_to_set(gateway: Served) -> None:
    """Without a token the CLI reports the 401 and names GATEWAY_ADMIN_TOKEN."""
    result = gateway.run("list", token=None)
    assert result.exit_code == 1 and "401" in result.output and "GATEWAY_ADMIN_TOKEN" in result.output


def test_unreachable_gateway_is_reported() -> None:
    """With nothing listening, the CLI says it cannot reach the gateway, naming the URL."""
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["list", "--url", url], env={"GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN})
    assert result.exit_code == 1
    assert f"cannot reach the gateway at {url}" in result.output


def test_bad_arguments_are_usage_errors(gateway: Served) -> None:
    """A malformed override or an empty ``set`` is refused before any request."""
    assert gateway.run("set", "support_agent", "--override", "vip=winner").exit_code == 2
    assert gateway.run("set", "support_agent").exit_code == 2
    assert gateway.run("rollout", "support_agent").exit_code == 2


def test_flags_is_a_subcommand_of_genesis_gateway() -> None:
    """``genesis-gateway flags --help`` lists the commands."""
    result = CliRunner().invoke(root_app, ["flags", "--help"])
    assert result.exit_code == 0
    for command in ("list", "show", "set", "kill", "revive", "history", "srm", "rollout"):
        assert command in result.output


def test_parsers() -> None:
    """Durations take s/m/h/d suffixes; overrides are UNIT=VARIANT."""
    assert [parse_duration(t) for t in ("90", "90s", "30m", "2h", "1d", "0.5h")] == [90, 90, 1800, 7200, 86400, 1800]
    assert parse_overrides(["a=candidate", "b=c=baseline"]) == {"a": "candidate", "b=c": "baseline"}
    with pytest.raises(typer.BadParameter):
        parse_duration("soon")
