"""The ``genesis-gateway`` command: help everywhere, a bad config refused with the field named, serve and demo."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from gateway.cli import app
from gateway.metrics.tally import FLUSH_S
from tests.support.servers import ROOT, free_port, run_process

GOOD = """
upstreams:
  sim: {kind: simulated, simulator: {first_token_ms: 0, tokens_per_second: 100000}}
agents:
  support_agent:
    candidate: {model: "ft:sim:support", upstream: sim}
    baseline: {model: sim-base, upstream: sim}
    candidate_share: 50
"""
SECRET_PROMPT = "zebra-kiwi-prompt-that-must-never-be-logged"


def gateway_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m gateway ARGS`` (the console script's code) to completion."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of the CLI, as argument paths."""
    paths: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        paths.append((*prefix, name))
        if isinstance(command, TyperGroup):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


def poll(url: str, check: str, timeout: float = 20.0) -> httpx2.Response:
    """GET ``url`` until its body contains ``check`` (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            resp = httpx2.get(url, timeout=2)
            if check in resp.text:
                return resp
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never showed {check!r}")
        time.sleep(0.1)


@contextlib.contextmanager
def served_workers(
    tmp_path: Path, workers: int, *, config: str = GOOD
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``serve --workers N`` on ``config`` (GOOD), ready (``/readyz`` ok): the process and its base URL."""
    path = tmp_path / "gateway.yaml"
    path.write_text(config)
    port = free_port()
    args = ["-m", "gateway", "serve", "--config", str(path), "--port", str(port), "--workers", str(workers)]
    with run_process(args, port=port, env={"PROMETHEUS_MULTIPROC_DIR": ""}) as proc:
        base = f"http://127.0.0.1:{port}"
        poll(base + "/readyz", '"ok"')
        yield proc, base


def test_every_command_explains_itself_with_help() -> None:
    """``--help`` on the program and on every command exits 0 and prints a usage line and a description."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    paths = command_paths(root)
    assert ("serve",) in paths
    assert ("demo",) in paths
    runner = CliRunner()
    for path in [(), *paths]:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        command = root if not path else root.commands[path[0]]
        for part in path[1:]:
            assert isinstance(command, TyperGroup)
            command = command.commands[part]
        assert command.help, f"{' '.join(path)} has no help text"


def test_serve_and_demo_help_name_their_options() -> None:
    """serve --help lists --config, --host, --port, --workers; demo --help lists --port and --rate."""
    runner = CliRunner()
    serve = runner.invoke(app, ["serve", "--help"]).output
    for option in ("--config", "--host", "--port", "--workers"):
        assert option in serve
    demo = runner.invoke(app, ["demo", "--help"]).output
    for option in ("--port", "--rate"):
        assert option in demo


def test_serve_with_a_bad_config_exits_2_naming_the_field(tmp_path: Path) -> None:
    """serve --config bad.yaml exits 2 and says which field is wrong, without starting a server."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("candidate_share: 50", "candidate_share: 150"))
    result = gateway_cli("serve", "--config", str(bad), "--port", str(free_port()))
    assert result.returncode == 2, result.stderr
    assert "agents.support_agent.candidate_share" in result.stderr
    assert str(bad) in result.stderr


def test_serve_with_a_missing_config_exits_2(tmp_path: Path) -> None:
    """serve --config on a path that does not exist exits 2 saying it cannot read it."""
    result = gateway_cli("serve", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def _requests_counted(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('genesis_requests_total{agent="support_agent"')
    )


@pytest.mark.slow
def test_serve_answers_chat_with_two_workers_and_merged_metrics(tmp_path: Path) -> None:
    """serve --workers 2 answers chat, /metrics counts every request whichever worker served it (within FLUSH_S of
    its answer), JSON logs, no prompt."""
    with served_workers(tmp_path, 2) as (proc, base):
        body = {"model": "support_agent", "messages": [{"role": "user", "content": SECRET_PROMPT}]}
        for i in range(12):
            # A fresh connection each time, so that both workers get requests.
            resp = httpx2.post(base + "/v1/chat/completions", json=body, headers={"x-genesis-user": f"u{i}"})
            assert resp.status_code == 200
            assert resp.headers["x-genesis-agent"] == "support_agent"
        totals = [_requests_counted(httpx2.get(base + "/metrics").text)]
        deadline = time.monotonic() + 10 * FLUSH_S
        while totals[-1] < 12 and time.monotonic() < deadline:  # each worker flushes its tallies within FLUSH_S
            time.sleep(0.1)
            totals.append(_requests_counted(httpx2.get(base + "/metrics").text))
        proc.terminate()
        log = proc.communicate(timeout=15)[0].decode()
    assert totals[-1] == 12, totals
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [e for e in events if e.get("event") == "request"]
    assert len(requests) == 12, log
    for event in requests:
        assert {"request_id", "agent", "variant", "model", "status", "duration_ms", "input_tokens"} <= set(event)
        assert event["status"] == 200
    assert SECRET_PROMPT not in log


@pytest.mark.slow
def test_a_workers_scrape_holds_its_own_sampling_counts_at_once(tmp_path: Path) -> None:
    """With --workers 2, /metrics from the worker that just served sampled requests counts them all, without
    waiting for its tallies' timer: a worker flushes every request-path tally before it answers a scrape."""
    config = GOOD.replace("candidate_share: 50", "candidate_share: 50\n    sample_rate: 1.0")
    with served_workers(tmp_path, 2, config=config) as (proc, base), httpx2.Client(base_url=base) as one_connection:
        body = {"model": "support_agent", "messages": [{"role": "user", "content": "Where is order 48213?"}]}
        for i in range(5):
            resp = one_connection.post("/v1/chat/completions", json=body, headers={"x-genesis-user": f"u{i}"})
            assert resp.status_code == 200
        metrics = one_connection.get("/metrics").text  # the same connection: the same worker
        proc.terminate()
    offered = [line for line in metrics.splitlines() if line.startswith('genesis_samples_offered_total{agent="support')]
    assert offered and float(offered[0].rsplit(" ", 1)[1]) == 5, offered


@pytest.mark.slow
def test_demo_serves_the_five_agents_with_traffic() -> None:
    """demo starts the five example agents on the simulator and its traffic shows up in /metrics."""
    port = free_port()
    with run_process(["-m", "gateway", "demo", "--port", str(port), "--rate", "20"], port=port) as proc:
        base = f"http://127.0.0.1:{port}"
        models = httpx2.get(base + "/v1/models").json()
        assert {card["id"] for card in models["data"]} >= {
            "support_agent",
            "legal_agent",
            "content_agent",
            "qa_agent",
            "analyst_agent",
        }
        poll(base + "/metrics", 'genesis_requests_total{agent="')
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/v1/chat/completions" in out
    assert "from mistralai.client import Mistral" in out
