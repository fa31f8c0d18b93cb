"""The runner: bounded concurrency, retries with backoff on transient failures, errors recorded per case."""

from __future__ import annotations

from gateway.bench import BenchOptions, PriceBook, RetryPolicy, UpstreamCaller, run_benchmark
from gateway.bench.model import BenchReport
from scoring.suites import load_suite
from tests.bench.helpers import WrappedUpstream, fast_demo_config, wrapped_upstreams

QUICK_RETRY = RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=0.01)


async def run(upstreams: dict[str, WrappedUpstream], **options: object) -> BenchReport:
    config = fast_demo_config()
    return await run_benchmark(
        load_suite("genesis-agents"),
        UpstreamCaller(config, dict(upstreams)),
        PriceBook(config),
        BenchOptions(cache_dir=None, retry=QUICK_RETRY, **options),  # type: ignore[arg-type]
        mode="simulator",
        source="test",
    )


async def test_concurrency_is_bounded() -> None:
    """No more calls are in flight at once than --concurrency allows (and more than one is used)."""
    upstreams = wrapped_upstreams(fast_demo_config())
    await run(upstreams, concurrency=3)
    (upstream,) = upstreams.values()
    assert upstream.calls == 100
    assert 1 < upstream.max_in_flight <= 3


async def test_transient_failures_are_retried_until_they_succeed() -> None:
    """Three scripted 503s are absorbed by retries: every case is answered, and attempts are counted."""
    upstreams = wrapped_upstreams(fast_demo_config(), fail_first=3)
    report = await run(upstreams, agents=("qa_agent",), concurrency=1)
    runs = [r for case in report.cases for r in case.variants.values()]
    assert all(r.error is None and r.score is not None for r in runs)
    assert sum(r.attempts for r in runs) == 20 + 3
    assert report.gate.exit_code != 4


async def test_exhausted_retries_leave_an_error_and_exit_4() -> None:
    """A case that keeps failing is recorded with its error after the last attempt; the gate says error (4)."""
    upstreams = wrapped_upstreams(fast_demo_config(), fail_first=1000)
    report = await run(upstreams, agents=("qa_agent",))
    runs = [r for case in report.cases for r in case.variants.values()]
    assert all(r.error is not None and r.attempts == 4 for r in runs)
    assert report.gate.exit_code == 4 and report.gate.status == "error"
    assert all(a.recommendation == "incomplete" for a in report.agents)


async def test_a_refused_request_is_not_retried() -> None:
    """A 400 from the upstream is permanent: one attempt, the error kept on the case, other cases unaffected."""
    config = fast_demo_config()
    baseline = config.agents["qa_agent"].baseline.model
    upstreams = wrapped_upstreams(config, reject_model=baseline)
    report = await run(upstreams, agents=("qa_agent",))
    baseline_runs = [case.variants["baseline"] for case in report.cases]
    candidate_runs = [case.variants["candidate"] for case in report.cases]
    assert all(r.attempts == 1 and "400" in (r.error or "") for r in baseline_runs)
    assert all(r.error is None for r in candidate_runs)
    assert report.gate.exit_code == 4
    assert len(report.errors) == 10


async def test_named_models_replace_candidate_and_baseline() -> None:
    """--models: any model id the config serves can be a target, compared with the second one."""
    config = fast_demo_config()
    report = await run(
        wrapped_upstreams(config), agents=("support_agent",), targets=("candidate", "mistral-small-latest")
    )
    assert report.targets == ["candidate", "mistral-small-latest"]
    (agent,) = report.agents
    assert agent.comparison is not None and agent.comparison.reference == "mistral-small-latest"
    assert agent.targets["mistral-small-latest"].models == ["mistral-small-latest"]
