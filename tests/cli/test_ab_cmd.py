"""``genesis-gateway ab``: show, promote and rollback against a served gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.experiments.served import AGENT, RO, RW, Served, served_gateway
from tests.support.servers import free_port


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One gateway for the read-only commands of this module."""
    with served_gateway() as gateway:
        yield gateway


def run(*args: str, token: str | None = RO) -> tuple[int, str]:
    env = {"COLUMNS": "220"}
    if token is not None:
        env["GATEWAY_ADMIN_TOKEN"] = token
    result = CliRunner().invoke(app, ["ab", *args], env=env)
    return result.exit_code, result.output


def test_show_lists_every_agent_with_its_verdict_and_difference(served: Served) -> None:
    """The overview has one row per agent: verdict, samples, '+0.6x (95 % CI +a…+b)' style differences."""
    code, out = run("show", "--url", served.url)
    assert code == 0, out
    row = next(line for line in out.splitlines() if AGENT in line)
    assert "promote" in row and "200" in row and "(95 % CI +" in row and "pts" in row
    assert "qa_agent" in out and "continue" in out


def test_show_one_agent_has_dimensions_and_reasons(served: Served) -> None:
    """One agent: the headline, every reason, and a row per dimension with its p-value."""
    code, out = run("show", AGENT, "--url", served.url)
    assert code == 0, out
    assert f"{AGENT}: promote (rollout gate: proceed)" in out
    assert "clears the 8.0 threshold" in out
    for label in ("overall", "pass rate", "specificity"):
        assert any(line.strip("│ ").startswith(label) for line in out.splitlines()), label


def test_without_a_token_the_cli_says_what_to_set(served: Served) -> None:
    """No admin token: exit 1 with the 401 and a hint naming GATEWAY_ADMIN_TOKEN."""
    code, out = run("show", "--url", served.url, token=None)
    assert code == 1
    assert "401" in out and "GATEWAY_ADMIN_TOKEN" in out


def test_an_unreachable_gateway_is_one_clear_line() -> None:
    """Nobody listening on --url: exit 1 with 'cannot reach'."""
    code, out = run("show", "--url", f"http://127.0.0.1:{free_port()}")
    assert code == 1 and "cannot reach the gateway" in out


def test_rollback_and_promote_change_the_share() -> None:
    """rollback sets 0 %, promote 100 %, under the token's name; a read-only token is refused."""
    with served_gateway() as served:
        code, out = run("rollback", AGENT, "--url", served.url, token=RO)
        assert code == 1 and "403" in out
        code, out = run("rollback", AGENT, "--url", served.url, token=RW)
        assert code == 0, out
        assert f"{AGENT}: rolled back by alice — candidate share 0 %" in out
        assert served.call("GET", f"/admin/agents/{AGENT}").json()["candidate_share"] == 0
        code, out = run("promote", AGENT, "--url", served.url, token=RW)
        assert code == 0 and "candidate share 100 %" in out


def test_promote_against_the_verdict_needs_force() -> None:
    """promote of an agent whose verdict is continue exits 1 with the 409 and the hint; --force promotes."""
    with served_gateway() as served:
        code, out = run("promote", "qa_agent", "--url", served.url, token=RW)
        assert code == 1 and "409" in out and "--force" in out
        code, out = run("promote", "qa_agent", "--force", "--url", served.url, token=RW)
        assert code == 0 and "candidate share 100 %" in out
