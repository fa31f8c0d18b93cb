"""``genesis-gateway flags ...``: read and change agents' flags on a running gateway, through ``/admin/``.

    genesis-gateway flags list
    genesis-gateway flags show support_agent
    genesis-gateway flags set support_agent --share 25 --override user-42=candidate
    genesis-gateway flags kill support_agent          # every request to the baseline, now
    genesis-gateway flags revive support_agent
    genesis-gateway flags rollout support_agent --steps 5,25,50,100 --every 30m
    genesis-gateway flags history support_agent
    genesis-gateway flags srm

The gateway is ``--url`` (default ``http://127.0.0.1:8080``); the admin token comes from
``GATEWAY_ADMIN_TOKEN`` (or ``--token``). Plain HTTP with the standard library: no event loop.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
from typing import Annotated, Any

import typer
from rich.table import Table

from gateway.cli.console import cli_console

app = typer.Typer(
    help="Read and change agents' flags (share, kill switch, overrides, rollout) on a running gateway.",
    no_args_is_help=True,
)

UrlOption = Annotated[str, typer.Option("--url", envvar="GATEWAY_URL", help="The gateway's root URL.")]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="GATEWAY_ADMIN_TOKEN", show_envvar=True, help="Admin token.", show_default=False),
]
AgentArgument = Annotated[str, typer.Argument(help="The agent's name, as in the config.")]
DEFAULT_URL = "http://127.0.0.1:8080"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}


class AdminClient:
    """The admin API over HTTP; every failure becomes a ``typer.Exit`` after a one-line message."""

    def __init__(self, url: str, token: str | None, *, timeout_s: float = 10.0):
        self._url = url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one request and return the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"accept": "application/json", "content-type": "application/json"}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self._url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return json.load(response)
        except urllib.error.HTTPError as err:
            _fail(f"{err.code}: {_error_message(err)}" + _hint(err.code))
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            _fail(f"cannot reach the gateway at {self._url} ({reason}); is it running? (--url)")


def _error_message(err: urllib.error.HTTPError) -> str:
    raw = err.read()
    try:
        return str(json.loads(raw)["message"])
    except (ValueError, KeyError, TypeError):
        return raw.decode(errors="replace")[:300] or str(err.reason)


def _hint(status: int) -> str:
    if status == 401:
        return " (set GATEWAY_ADMIN_TOKEN to an admin token of this gateway)"
    return ""


def _fail(message: str) -> None:
    cli_console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(1)


def parse_duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``2h``, ``1d`` → seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise typer.BadParameter(f"{text!r} is not a duration such as 90s, 30m or 2h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_steps(text: str) -> list[float]:
    """``5,25,50,100`` → ``[5.0, 25.0, 50.0, 100.0]`` (the gateway checks that they make a schedule)."""
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a comma-separated list of percentages") from exc


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``["user-1=candidate", "user-2=baseline"]`` → ``{"user-1": "candidate", ...}``."""
    result = {}
    for pair in pairs:
        unit, sep, variant = pair.rpartition("=")
        if not sep or not unit or variant not in ("candidate", "baseline"):
            raise typer.BadParameter(f"{pair!r}: expected UNIT=candidate or UNIT=baseline")
        result[unit] = variant
    return result


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "-"


def _rollout(flags: dict[str, Any]) -> str:
    plan = flags.get("rollout")
    if not plan:
        return "-"
    steps = plan["steps"]
    where = f"step {plan['step'] + 1}/{len(steps)} → {steps[-1]:g} %"
    if plan.get("held_since"):
        return (
            f"{where}, next step held by the quality gate since {_when(plan['held_since'])} "
            f"(last answer: {plan.get('last_gate') or 'hold'}; the verdict: genesis-gateway ab show {flags['agent']})"
        )
    return f"{where}, next {_when(plan['next_at'])}"


def _summary(flags: dict[str, Any]) -> str:
    state = "enabled" if flags["enabled"] else "[red]KILLED[/red] (all traffic to the baseline)"
    return (
        f"{flags['agent']}: version {flags['version']}, candidate share {flags['candidate_share']:g} %, "
        f"sample rate {flags['sample_rate']:g}, {state}"
    )


@app.command("list")
def list_flags(url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Every agent's flags."""
    answer = AdminClient(url, token).call("GET", "/admin/flags")
    table = Table(title=f"Flags at {url}")
    for column in ("agent", "enabled", "candidate %", "sample rate", "overrides", "version", "phase", "rollout"):
        table.add_column(column)
    for flags in answer["data"]:
        table.add_row(
            flags["agent"],
            "yes" if flags["enabled"] else "[red]KILLED[/red]",
            f"{flags['candidate_share']:g}",
            f"{flags['sample_rate']:g}",
            str(len(flags["overrides"])),
            str(flags["version"]),
            str(flags["phase"]),
            _rollout(flags),
        )
    cli_console().print(table)


@app.command()
def show(agent: AgentArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """One agent's flags, overrides and rollout."""
    flags = AdminClient(url, token).call("GET", f"/admin/agents/{agent}")
    table = Table(title=agent, show_header=False)
    table.add_column("field")
    table.add_column("value")
    table.add_row("enabled", "yes" if flags["enabled"] else "[red]KILLED[/red] (all traffic to the baseline)")
    table.add_row("candidate share", f"{flags['candidate_share']:g} %")
    table.add_row("sample rate", f"{flags['sample_rate']:g}")
    table.add_row("version", str(flags["version"]))
    table.add_row("phase", str(flags["phase"]))
    table.add_row("updated", _when(flags["updated_at"]))
    table.add_row("rollout", _rollout(flags))
    for unit, variant in sorted(flags["overrides"].items()):
        table.add_row("override", f"{unit} → {variant}")
    cli_console().print(table)


@app.command("set")
def set_flags(
    agent: AgentArgument,
    *,
    share: Annotated[float | None, typer.Option("--share", help="Candidate share in percent (0–100).")] = None,
    sample_rate: Annotated[float | None, typer.Option("--sample-rate", help="Share of answers scored (0–1).")] = None,
    override: Annotated[
        list[str] | None, typer.Option("--override", help="Pin a unit: UNIT=candidate|baseline (repeatable).")
    ] = None,
    unpin: Annotated[list[str] | None, typer.Option("--unpin", help="Remove a unit's override (repeatable).")] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Change an agent's share, sample rate or overrides."""
    body: dict[str, Any] = {}
    if share is not None:
        body["candidate_share"] = share
    if sample_rate is not None:
        body["sample_rate"] = sample_rate
    if override:
        body["pin"] = parse_overrides(override)
    if unpin:
        body["unpin"] = unpin
    if not body:
        raise typer.BadParameter("give at least one of --share, --sample-rate, --override, --unpin")
    cli_console().print(_summary(AdminClient(url, token).call("PATCH", f"/admin/agents/{agent}", body)))


@app.command()
def kill(agent: AgentArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Kill switch: send every request of the agent to its baseline now (stops any rollout)."""
    cli_console().print(_summary(AdminClient(url, token).call("POST", f"/admin/agents/{agent}/kill", {})))


@app.command()
def revive(agent: AgentArgument, url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Undo a kill: the split runs again at the share it had."""
    cli_console().print(_summary(AdminClient(url, token).call("POST", f"/admin/agents/{agent}/revive", {})))


@app.command()
def rollout(
    agent: AgentArgument,
    *,
    steps: Annotated[str | None, typer.Option("--steps", help="Shares in percent, e.g. 5,25,50,100.")] = None,
    every: Annotated[str, typer.Option("--every", help="Time between steps: 90s, 30m, 2h.")] = "30m",
    stop: Annotated[bool, typer.Option("--stop", help="Stop the running schedule where it is.")] = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Start a staged rollout (the first step applies now), or stop one with --stop."""
    client = AdminClient(url, token)
    if stop:
        flags = client.call("DELETE", f"/admin/agents/{agent}/rollout")
    elif steps is None:
        raise typer.BadParameter("give --steps (e.g. 5,25,50,100) or --stop")
    else:
        body = {"steps": parse_steps(steps), "interval_s": parse_duration(every)}
        flags = client.call("POST", f"/admin/agents/{agent}/rollout", body)
    cli_console().print(_summary(flags) + f"; rollout: {_rollout(flags)}")


@app.command()
def history(
    agent: AgentArgument,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many entries.")] = 20,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """The agent's audit log, newest first: when, who, what changed."""
    answer = AdminClient(url, token).call("GET", f"/admin/agents/{agent}/history?limit={limit}")
    table = Table(title=f"History of {agent}")
    for column in ("time", "actor", "version", "change"):
        table.add_column(column)
    for entry in answer["data"]:
        table.add_row(_when(entry["at"]), entry["actor"], str(entry["new"]["version"]), _changes(entry))
    cli_console().print(table)


def _changes(entry: dict[str, Any]) -> str:
    old, new = entry.get("old") or {}, entry["new"]
    parts = []
    for name in ("enabled", "candidate_share", "sample_rate", "overrides", "rollout"):
        if old.get(name) != new.get(name):
            parts.append(f"{name}: {_short(old.get(name))} → {_short(new.get(name))}")
    detail = "; ".join(parts) or "-"
    return f"{entry['note']}\n{detail}" if entry.get("note") else detail


def _short(value: Any) -> str:
    if isinstance(value, dict) and "steps" in value:
        return f"step {value['step'] + 1}/{len(value['steps'])}"
    return "-" if value is None else str(value)


@app.command()
def srm(url: UrlOption = DEFAULT_URL, token: TokenOption = None) -> None:
    """Sample-ratio-mismatch check of every agent (current phase; flagged at p < 0.001)."""
    answer = AdminClient(url, token).call("GET", "/admin/srm")
    table = Table(title="Sample-ratio-mismatch check (counts since the share last changed)")
    for column in ("agent", "share %", "phase", "candidate", "baseline", "p-value", "status"):
        table.add_column(column)
    for report in answer["data"]:
        check = report["srm"]
        status = "[red]MISMATCH[/red]" if check["detected"] else check["status"]
        table.add_row(
            report["agent"],
            f"{report['candidate_share']:g}",
            str(report["phase"]),
            str(report["counts"]["candidate"]),
            str(report["counts"]["baseline"]),
            f"{check['p_value']:.3g}",
            status,
        )
    cli_console().print(table)
