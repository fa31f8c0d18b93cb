"""End to end: chat requests through the gateway are sampled, scored and show up in the A/B analysis."""

from __future__ import annotations

import time

import httpx2
from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from gateway.settings import GatewayConfig
from tests.experiments.helpers import experiment_config
from tests.experiments.served import RO, SETTINGS
from tests.support.servers import serve_app


def test_scored_traffic_reaches_the_analysis_and_its_metrics() -> None:
    """30 requests at a 100 % sample rate: the analysis counts 30 samples across both arms, in the API and /metrics."""
    raw = experiment_config(min_samples=5, interval_s=0.1).model_dump(mode="json")
    raw["agents"]["support_agent"]["sample_rate"] = 1.0
    registry = CollectorRegistry()
    state = build_state(SETTINGS, GatewayConfig.model_validate(raw), registry=registry)
    with serve_app(create_app(state)) as url:
        for i in range(30):
            answer = httpx2.post(
                url + "/v1/chat/completions",
                json={"model": "support_agent", "messages": [{"role": "user", "content": f"Reset my password ({i})"}]},
                headers={"x-genesis-user": f"user-{i}"},
                timeout=10,
            )
            assert answer.status_code == 200
        deadline = time.monotonic() + 15

        def counted() -> float:
            return sum(
                registry.get_sample_value("genesis_ab_samples", {"agent": "support_agent", "variant": v}) or 0.0
                for v in ("candidate", "baseline")
            )

        while counted() < 30:
            assert time.monotonic() < deadline, f"only {counted()} of 30 samples analysed within 15 s"
            time.sleep(0.05)
        report = httpx2.get(
            url + "/admin/experiments/support_agent", headers={"authorization": f"Bearer {RO}"}, timeout=10
        ).json()
    assert sum(report["samples"].values()) == 30
    assert report["dimensions"][0]["dimension"] == "overall"
    assert {"quality", "relevance", "format", "specificity"} <= {d["dimension"] for d in report["dimensions"]}
