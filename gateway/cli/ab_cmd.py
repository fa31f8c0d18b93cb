"""``genesis-gateway ab ...``: read the A/B analysis of a running gateway, promote or roll back a candidate.

    genesis-gateway ab show                   # every agent: verdict, samples, overall and pass-rate difference
    genesis-gateway ab show support_agent     # one agent: every dimension, interval, p-value, the reasons
    genesis-gateway ab promote support_agent  # candidate share 100 %
    genesis-gateway ab rollback support_agent # candidate share 0 %

Talks to ``/admin/experiments`` with the flags CLI's client: ``--url`` (default
``http://127.0.0.1:8080``) and the admin token from ``GATEWAY_ADMIN_TOKEN`` (or ``--token``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from gateway.cli.console import cli_console
from gateway.cli.flags_cmd import DEFAULT_URL, AdminClient, AgentArgument, TokenOption, UrlOption
from gateway.experiments.moments import PASS
from gateway.experiments.report import OVERALL, phrase

app = typer.Typer(help="The A/B analysis: verdicts per agent; promote or roll back a candidate.", no_args_is_help=True)

_VERDICT_STYLE = {"promote": "green", "rollback": "red", "inconclusive": "yellow", "continue": "cyan"}


@app.command()
def show(
    agent: Annotated[str | None, typer.Argument(help="One agent (all agents when left out).")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Every agent's verdict, or one agent's comparison per dimension with the reasons."""
    client = AdminClient(url, token)
    if agent is None:
        cli_console().print(_overview(client.call("GET", "/admin/experiments")["data"], url))
        return
    report = client.call("GET", f"/admin/experiments/{agent}")
    console = cli_console()
    console.print(_headline(report))
    for reason in report["reasons"]:
        console.print(f"  • {reason}", highlight=False)
    console.print(_dimensions(report))


@app.command()
def promote(
    agent: AgentArgument,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even though the verdict is not promote (recorded in the audit).")
    ] = False,
) -> None:
    """Send every unit of the agent to its candidate (share 100 %; stops a running rollout).

    Refused unless the current verdict is promote; --force overrides that.
    """
    _act(AdminClient(url, token).call("POST", f"/admin/experiments/{agent}/promote", {"force": force}))


@app.command()
def rollback(agent: AgentArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Send every unit of the agent to its baseline (share 0 %; stops a running rollout).

    Always allowed, whatever the verdict: rolling back is the safe direction, so there is no --force.
    """
    _act(AdminClient(url, token).call("POST", f"/admin/experiments/{agent}/rollback", {}))


def _act(answer: dict[str, Any]) -> None:
    flags = answer["flags"]
    done = "promoted" if answer["action"] == "promote" else "rolled back"
    line = f"{answer['agent']}: {done} by {answer['actor']} — candidate share {flags['candidate_share']:g} %"
    if not flags["enabled"]:
        line += " (the agent is killed: traffic stays on the baseline until revived)"
    last = answer.get("last_report")
    if last is not None:
        line += f"; last verdict: {last['verdict']}"
    cli_console().print(line, highlight=False)


def _verdict(name: str) -> str:
    return f"[{_VERDICT_STYLE.get(name, 'white')}]{name}[/]"


def _headline(report: dict[str, Any]) -> str:
    samples = report["samples"]
    share = f"candidate share {report['candidate_share']:g} %" + ("" if report["enabled"] else ", [red]KILLED[/red]")
    return (
        f"{report['agent']}: {_verdict(report['verdict'])} (rollout gate: {report['gate']}) — "
        f"{samples['candidate']} candidate / {samples['baseline']} baseline samples "
        f"(need {report['min_samples']} each), {share}; {report['method'].replace('_', '-')} intervals"
    )


def _difference(result: dict[str, Any] | None, confidence: float, *, proportion: bool) -> str:
    if result is None:
        return "-"
    comparison = result.get("comparison")
    if comparison is None:
        return "-"
    return phrase(
        comparison["difference"],
        comparison["ci_lower"],
        comparison["ci_upper"],
        confidence=confidence,
        proportion=proportion,
    )


def _overview(reports: list[dict[str, Any]], url: str) -> Table:
    table = Table(title=f"A/B analysis at {url}")
    for column in ("agent", "verdict", "candidate n", "baseline n", "overall Δ", "pass rate Δ", "share %", "gate"):
        table.add_column(column)
    for report in reports:
        by_name = {d["dimension"]: d for d in report["dimensions"]}
        table.add_row(
            report["agent"],
            _verdict(report["verdict"]),
            str(report["samples"]["candidate"]),
            str(report["samples"]["baseline"]),
            _difference(by_name.get(OVERALL), report["confidence"], proportion=False),
            _difference(by_name.get(PASS), report["confidence"], proportion=True),
            f"{report['candidate_share']:g}",
            report["gate"],
        )
    return table


def _arm(arm: dict[str, Any], *, proportion: bool) -> str:
    if arm["mean"] is None:
        return f"- (n={arm['n']})"
    mean = f"{arm['mean'] * 100:.1f} %" if proportion else f"{arm['mean']:.2f}"
    return f"{mean} (n={arm['n']})"


def _dimensions(report: dict[str, Any]) -> Table:
    table = Table(title=f"{report['agent']}: candidate − baseline")
    for column in ("dimension", "candidate", "baseline", "difference", "p-value"):
        table.add_column(column)
    for result in report["dimensions"]:
        proportion = result["dimension"] == PASS
        comparison = result["comparison"]
        table.add_row(
            "pass rate" if proportion else result["dimension"],
            _arm(result["candidate"], proportion=proportion),
            _arm(result["baseline"], proportion=proportion),
            _difference(result, report["confidence"], proportion=proportion),
            "-" if comparison is None else f"{comparison['p_value']:.3g}",
        )
    return table
