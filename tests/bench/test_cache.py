"""The answer cache: a second run makes no upstream calls, an interrupted run resumes, bad entries are misses."""

from __future__ import annotations

from pathlib import Path

from gateway.bench import AnswerCache, BenchOptions, PriceBook, UpstreamCaller, run_benchmark
from gateway.bench.model import Answer, BenchReport
from scoring.suites import load_suite
from scoring.types import Message
from tests.bench.helpers import fast_demo_config, wrapped_upstreams


async def bench_once(cache: Path, agents: tuple[str, ...]) -> tuple[BenchReport, int]:
    """One direct run on counting simulator upstreams; returns the report and the upstream calls made."""
    config = fast_demo_config()
    upstreams = wrapped_upstreams(config)
    options = BenchOptions(agents=agents, cache_dir=cache)
    report = await run_benchmark(
        load_suite("genesis-agents"),
        UpstreamCaller(config, dict(upstreams)),
        PriceBook(config),
        options,
        mode="simulator",
        source="test",
    )
    return report, sum(u.calls for u in upstreams.values())


async def test_second_run_makes_no_upstream_calls(tmp_path: Path) -> None:
    """Run twice with one cache: the first calls every case × variant, the second none, with equal scores."""
    first, calls_first = await bench_once(tmp_path, ("qa_agent", "support_agent"))
    second, calls_second = await bench_once(tmp_path, ("qa_agent", "support_agent"))
    assert calls_first == 40
    assert calls_second == 0
    assert all(run.cached for case in second.cases for run in case.variants.values())
    assert [a.targets["candidate"].overall for a in first.agents] == [
        a.targets["candidate"].overall for a in second.agents
    ]


async def test_a_partial_cache_resumes_with_only_the_missing_calls(tmp_path: Path) -> None:
    """After a run of one agent, a run of two agents calls only the new agent's cases."""
    await bench_once(tmp_path, ("legal_agent",))
    _, calls = await bench_once(tmp_path, ("legal_agent", "analyst_agent"))
    assert calls == 20


def test_cache_is_keyed_by_model_and_messages(tmp_path: Path) -> None:
    """The same messages for another model, or other messages for the same model, miss."""
    cache = AnswerCache(tmp_path)
    messages = [Message(role="user", content="How do I test async code?")]
    answer = Answer(text="Use pytest-asyncio.", model="m1", finish_reason="stop")
    cache.put("m1", messages, answer)
    assert cache.get("m1", messages) == answer
    assert cache.get("m2", messages) is None
    assert cache.get("m1", [Message(role="user", content="How do I test sync code?")]) is None
    assert cache.get("m1", [Message(role="system", content="How do I test async code?")]) is None


def test_an_unreadable_entry_is_a_miss_and_is_overwritten(tmp_path: Path) -> None:
    """A truncated cache file is treated as absent, and the next put replaces it."""
    cache = AnswerCache(tmp_path)
    messages = [Message(role="user", content="hello")]
    cache.put("m1", messages, Answer(text="hi", model="m1"))
    (entry,) = tmp_path.rglob("*.json")
    entry.write_text('{"model": "m1", "messag')
    assert cache.get("m1", messages) is None
    cache.put("m1", messages, Answer(text="hi again", model="m1"))
    hit = cache.get("m1", messages)
    assert hit is not None and hit.text == "hi again"
    assert not list(tmp_path.rglob("*.tmp"))
