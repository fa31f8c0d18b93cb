"""Every panel query and recording rule, proven against a real Prometheus scraping the embedded gateway.

The embedded demo (simulator upstream, in-memory flags and scoring) serves on a loopback port with
demo traffic; a real ``prometheus`` server scrapes it every second and evaluates the recording and
alerting rules every second. Then every panel query of the committed dashboards (variables set to
one agent and variant) and every recording rule must return at least one series, every metric
they read must be exported by the gateway, and every rule must evaluate without error.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client import CollectorRegistry

from dashboards.inventory import (
    ALERT_RULES,
    RECORDING_RULES,
    family,
    load_rules,
    metric_names,
    panel_queries,
    substitute,
)
from gateway.app import build_state, create_app
from gateway.demo import TrafficGenerator, demo_config
from gateway.settings import GatewayConfig, Settings
from tests.support.servers import free_port, run_process, serve_app

AGENT, VARIANT = "support_agent", "candidate"
VARIABLES = {"agent": AGENT, "variant": VARIANT, "__rate_interval": "30s"}
DEADLINE_S = 45.0
"""How long the data may take to appear: scrapes, rule evaluations, scored samples, one A/B analysis."""


def _live_config() -> GatewayConfig:
    """The demo config, with 10 % upstream failures (so 5xx, retries and fallbacks happen) and an
    A/B analysis every second (instead of every minute)."""
    demo = demo_config()
    upstreams = {
        name: upstream.model_copy(update={"simulator": upstream.simulator.model_copy(update={"error_rate": 0.1})})
        for name, upstream in demo.upstreams.items()
    }
    experiments = demo.experiments.model_copy(update={"interval_s": 1.0})
    return demo.model_copy(update={"upstreams": upstreams, "experiments": experiments})


@pytest.fixture
def gateway_url() -> Iterator[str]:
    """The embedded demo gateway on a loopback port (no demo traffic of its own yet)."""
    state = build_state(Settings(), _live_config(), registry=CollectorRegistry(), env={})
    with serve_app(create_app(state)) as url:
        yield url


@pytest.fixture
def prometheus_url(gateway_url: str, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus scraping the gateway every second, with the recording and alerting rules loaded."""
    if shutil.which("prometheus") is None:
        pytest.fail("the prometheus server is not installed; run the tests with `make test` (make services)")
    port = free_port()
    target = gateway_url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RECORDING_RULES), str(ALERT_RULES)],
        "scrape_configs": [{"job_name": "genesis-gateway", "static_configs": [{"targets": [target]}]}],
    }
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    args = [
        "prometheus",
        f"--config.file={config_path}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with run_process(args, port=port):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Findings:
    """What one pass over every query found."""

    failures: list[str] = field(default_factory=list)


async def test_every_panel_query_and_recording_rule_returns_series(gateway_url: str, prometheus_url: str) -> None:
    """With demo traffic scored, each panel query and recording rule returns series, and each rule is healthy."""
    traffic = TrafficGenerator(gateway_url, rate_per_s=20)
    await traffic.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            await _rate_answers(session, gateway_url)
            findings = await _poll_until_clean(session, prometheus_url)
    finally:
        await traffic.close()
    assert not findings.failures, "queries that fail against the live gateway:\n" + "\n".join(findings.failures)


async def _rate_answers(session: aiohttp.ClientSession, gateway_url: str) -> None:
    """Rate a few candidate answers of the agent so the feedback panel has data."""
    body = {"model": AGENT, "messages": [{"role": "user", "content": "I was charged twice, how do I get a refund?"}]}
    headers = {"x-genesis-user": "live-test", "x-genesis-variant": VARIANT}
    rated = 0
    deadline = time.monotonic() + 15
    while rated < 3 and time.monotonic() < deadline:
        async with session.post(f"{gateway_url}/v1/chat/completions", json=body, headers=headers) as resp:
            await resp.read()
            request_id = resp.headers.get("x-request-id")
        if request_id is None:
            continue
        feedback = {"request_id": request_id, "rating": "up"}
        async with session.post(f"{gateway_url}/v1/feedback", json=feedback) as resp:
            await resp.read()
            rated += resp.status == 200
    assert rated, "no answer could be rated through POST /v1/feedback"


async def _poll_until_clean(session: aiohttp.ClientSession, prometheus_url: str) -> Findings:
    """Check everything every second until nothing fails or the deadline passes; the last findings."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        findings = await _check_all(session, prometheus_url)
        if not findings.failures or time.monotonic() > deadline:
            return findings
        await asyncio.sleep(1)


async def _check_all(session: aiohttp.ClientSession, prometheus_url: str) -> Findings:
    probe = Probe(session, prometheus_url)
    await probe.load_exported()
    for where, expr in _all_queries():
        await probe.check_query(where, expr)
    await probe.check_rules_healthy()
    await probe.check_variables()
    return probe.findings


def _all_queries() -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target, recording rule expression and recorded series."""
    queries = [(q.where, substitute(q.expr, VARIABLES)) for q in panel_queries()]
    for rule in load_rules(RECORDING_RULES):
        queries += [(f"recording rule {rule.name}", rule.expr), (f"recorded series {rule.name}", rule.name)]
    return queries


@dataclass
class Probe:
    """One pass of checks against the Prometheus HTTP API."""

    session: aiohttp.ClientSession
    url: str
    exported: set[str] = field(default_factory=set)
    findings: Findings = field(default_factory=Findings)

    async def load_exported(self) -> None:
        """Metric families the gateway exposes (its # TYPE lines), with or without samples yet."""
        self.exported = set((await self._api("metadata", {})).get("data", {}))

    async def check_query(self, where: str, expr: str) -> None:
        """The query succeeds with at least one series, and every metric it reads is exported."""
        names = {family(name, self.exported) for name in metric_names(expr) if ":" not in name}
        for name in sorted(names - self.exported):
            self.findings.failures.append(f"{where}: reads {name}, which the gateway does not export")
        body = await self._api("query", {"query": expr})
        if body.get("status") != "success":
            self.findings.failures.append(f"{where}: {body.get('errorType')}: {body.get('error')}\n    {expr}")
        elif not body["data"]["result"]:
            self.findings.failures.append(f"{where}: no series\n    {expr}")

    async def check_rules_healthy(self) -> None:
        """Every rule of both files is loaded and evaluates without error."""
        expected = {rule.name for path in (RECORDING_RULES, ALERT_RULES) for rule in load_rules(path)}
        body = await self._api("rules", {})
        loaded = [rule for group in body["data"]["groups"] for rule in group["rules"]]
        for name in sorted(expected - {rule["name"] for rule in loaded}):
            self.findings.failures.append(f"rule {name} is not loaded by Prometheus")
        for rule in loaded:
            if rule.get("health") != "ok":
                self.findings.failures.append(f"rule {rule['name']}: {rule.get('health')}: {rule.get('lastError')}")

    async def check_variables(self) -> None:
        """The template variables' label_values() queries offer the agent and variant used above."""
        for label, match, wanted in (
            ("agent", "genesis_requests_total", AGENT),
            ("variant", f'genesis_requests_total{{agent=~"{AGENT}"}}', VARIANT),
        ):
            body = await self._api(f"label/{label}/values", {"match[]": match})
            if wanted not in body.get("data", []):
                self.findings.failures.append(f"variable {label}: label_values({match}, {label}) lacks {wanted}")

    async def _api(self, path: str, params: dict[str, str]) -> Any:
        async with self.session.get(f"{self.url}/api/v1/{path}", params=params) as resp:
            return await resp.json(content_type=None)
