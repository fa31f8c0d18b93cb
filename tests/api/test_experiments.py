"""``/admin/experiments`` over HTTP on a served gateway: auth, per-dimension numbers, promote and rollback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2
import pytest
from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from tests.experiments.helpers import experiment_config
from tests.experiments.served import AGENT, CONTENT, RO, RW, SETTINGS, Served, served_gateway
from tests.support.servers import free_port, serve_app


@pytest.fixture
def served() -> Iterator[Served]:
    """A gateway with 200 scored answers per arm of support_agent (candidate ~8.7, baseline ~8.1)."""
    with served_gateway() as gateway:
        yield gateway


def test_reading_needs_an_admin_token(served: Served) -> None:
    """No token is 401 in the Mistral error shape; a read-only token may read."""
    answer = served.call("GET", "/admin/experiments", token=None)
    assert answer.status_code == 401
    assert answer.json()["object"] == "error"
    assert served.call("GET", "/admin/experiments", token=RO).status_code == 200


def test_list_shows_every_agent_with_its_verdict(served: Served) -> None:
    """Both agents are listed; the one with scores is promoted, the one without waits."""
    data = {r["agent"]: r for r in served.call("GET", "/admin/experiments", token=RO).json()["data"]}
    assert set(data) == {"qa_agent", AGENT}
    assert data[AGENT]["verdict"] == "promote" and data[AGENT]["gate"] == "proceed"
    assert data["qa_agent"]["verdict"] == "continue" and data["qa_agent"]["gate"] == "hold"


def test_one_agent_per_dimension(served: Served) -> None:
    """Overall first, then the pass rate, then the scorers' dimensions: n per arm, difference, interval, p."""
    report = served.call("GET", f"/admin/experiments/{AGENT}", token=RO).json()
    assert report["samples"] == {"candidate": 200, "baseline": 200}
    assert [d["dimension"] for d in report["dimensions"]] == ["overall", "pass", "specificity"]
    overall = report["dimensions"][0]
    assert overall["candidate"]["n"] == 200 and overall["baseline"]["n"] == 200
    comparison = overall["comparison"]
    assert comparison["method"] == "sequential"
    assert comparison["ci_lower"] < comparison["difference"] < comparison["ci_upper"]
    assert 0.3 < comparison["difference"] < 0.9 and comparison["p_value"] < 0.01
    assert overall["fixed_horizon"]["method"] == "welch"
    assert report["dimensions"][1]["fixed_horizon"]["method"] == "two_proportion"
    assert report["reasons"] and report["threshold"] == 8.0 and report["min_samples"] == 150


def test_unknown_agent_is_404(served: Served) -> None:
    """An agent the config does not name: 404 with a clear message."""
    answer = served.call("GET", "/admin/experiments/nobody", token=RO)
    assert answer.status_code == 404
    assert "nobody" in answer.json()["message"]
    assert served.call("POST", "/admin/experiments/nobody/rollback").status_code == 404


def test_samples_are_the_agents_scored_answers_newest_first(served: Served) -> None:
    """A content token lists the kept scored answers, newest first, as many as ``limit`` asks."""
    assert served.call("GET", f"/admin/experiments/{AGENT}/samples", token=None).status_code == 401
    answer = served.call("GET", f"/admin/experiments/{AGENT}/samples?limit=3", token=CONTENT)
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert len(data) == 3
    assert [d["record"]["request_id"] for d in data] == [f"{AGENT}-baseline-{i}" for i in (199, 198, 197)]
    assert {"record", "dimensions", "overall", "passed", "scored_at"} <= set(data[0])
    everything = served.call("GET", f"/admin/experiments/{AGENT}/samples", token=RW).json()["data"]
    assert len(everything) == 400
    assert served.call("GET", "/admin/experiments/qa_agent/samples", token=CONTENT).json()["data"] == []
    assert served.call("GET", "/admin/experiments/nobody/samples", token=CONTENT).status_code == 404
    assert served.call("GET", f"/admin/experiments/{AGENT}/samples?limit=0", token=CONTENT).status_code == 400


def test_a_read_only_token_sees_the_figures_but_not_the_prompts_and_answers(served: Served) -> None:
    """Samples hold user content: a read-only (dashboard) token gets 403 there, and the A/B figures still."""
    refused = served.call("GET", f"/admin/experiments/{AGENT}/samples", token=RO)
    assert refused.status_code == 403
    assert refused.json()["code"] == "content_not_allowed"
    assert served.call("GET", f"/admin/experiments/{AGENT}", token=RO).status_code == 200


def test_writes_need_a_read_write_token(served: Served) -> None:
    """A read-only token gets 403 on promote and rollback, and the share does not move."""
    assert served.call("POST", f"/admin/experiments/{AGENT}/promote", token=RO).status_code == 403
    assert served.call("POST", f"/admin/experiments/{AGENT}/rollback", token=RO).status_code == 403
    assert served.call("GET", f"/admin/agents/{AGENT}", token=RO).json()["candidate_share"] == 30


def test_promote_then_rollback_are_audited_and_counted(served: Served) -> None:
    """Promote sets 100 %, rollback 0 %, both under the admin's name; the rollback counter moves."""
    promoted = served.call("POST", f"/admin/experiments/{AGENT}/promote").json()
    assert promoted["flags"]["candidate_share"] == 100 and promoted["actor"] == "alice"
    rolled = served.call("POST", f"/admin/experiments/{AGENT}/rollback").json()
    assert rolled["flags"]["candidate_share"] == 0 and rolled["action"] == "rollback"
    history = served.call("GET", f"/admin/agents/{AGENT}/history", token=RO).json()["data"]
    assert [e["actor"] for e in history[:2]] == ["alice", "alice"]
    assert served.registry.get_sample_value("genesis_ab_rollbacks_total", {"agent": AGENT}) == 1


def test_promote_against_the_verdict_is_409_unless_forced(served: Served) -> None:
    """qa_agent's verdict is continue: promote is a 409 naming it; force (query or body) promotes, audited as forced;
    rollback needs no force even against a promote verdict."""
    refused = served.call("POST", "/admin/experiments/qa_agent/promote")
    assert refused.status_code == 409, refused.text
    assert "'continue', not 'promote'" in refused.json()["message"] and "force=true" in refused.json()["message"]
    assert served.call("GET", "/admin/agents/qa_agent").json()["version"] == 1
    forced = served.call("POST", "/admin/experiments/qa_agent/promote?force=true")
    assert forced.status_code == 200 and forced.json()["flags"]["candidate_share"] == 100
    assert served.call("POST", "/admin/experiments/qa_agent/promote", json={"force": True}).status_code == 200
    note = served.call("GET", "/admin/agents/qa_agent/history", token=RO).json()["data"][0]["note"]
    assert note.startswith("a/b: promote by alice (forced")
    assert served.call("POST", f"/admin/experiments/{AGENT}/rollback").status_code == 200
    assert served.call("POST", f"/admin/experiments/{AGENT}/promote", json={"forse": True}).status_code == 400


def test_metrics_endpoint_carries_the_analysis(served: Served) -> None:
    """After the service's first pass /metrics shows the verdict and the difference with their labels."""
    deadline = time.monotonic() + 5
    text = ""
    while 'genesis_ab_verdict{agent="support_agent",verdict="promote"} 1.0' not in text:
        assert time.monotonic() < deadline, "no analysis pass in /metrics within 5 s"
        time.sleep(0.05)
        text = httpx2.get(served.url + "/metrics", timeout=10).text
    assert 'genesis_ab_difference{agent="support_agent",dimension="overall"}' in text
    assert 'genesis_ab_samples{agent="support_agent",variant="candidate"} 200.0' in text


def test_routes_are_in_the_openapi_schema(served: Served) -> None:
    """The experiment routes are documented with the admin security scheme."""
    paths = httpx2.get(served.url + "/schema/openapi.json", timeout=10).json()["paths"]
    assert "/admin/experiments/{agent}/rollback" in paths
    assert paths["/admin/experiments"]["get"]["security"] == [{"adminToken": []}]


def test_dead_results_store_is_503_not_500() -> None:
    """With the results in an unreachable Redis, reading an experiment is 503 store_unavailable in the Mistral shape."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings = SETTINGS.model_copy(update={"redis_url": dead})
    state = build_state(settings, experiment_config(), registry=CollectorRegistry())
    with serve_app(create_app(state)) as url:
        for path in (f"/admin/experiments/{AGENT}", "/admin/experiments"):
            answer = Served(url, state, state.registry).call("GET", path, token=RO)
            assert answer.status_code == 503, answer.text
            assert answer.json()["object"] == "error" and answer.json()["code"] == "store_unavailable"
