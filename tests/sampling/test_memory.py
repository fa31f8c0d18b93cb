"""The embedded pipeline: requests through a served gateway are sampled, scored in-process, exported."""

from __future__ import annotations

import asyncio
import time
import urllib.request

from mistralai.client import Mistral
from prometheus_client import CollectorRegistry

from gateway.sampling.factory import build_scoring
from gateway.sampling.memory import MemorySampleQueue
from gateway.state import GatewayState
from tests.sampling.helpers import PROMPTS, exchange, running_gateway, scoring_config, unit_on, wait_until

DIMENSIONS = ("quality", "relevance", "format", "specificity", "overall")


def test_sampled_answers_are_scored_into_metrics_with_labels() -> None:
    """Plain and streamed answers at sample rate 1 end up as quality scores per agent, variant and dimension."""
    with running_gateway(scoring_config()) as gw:
        client = Mistral(api_key="k", server_url=gw.url)
        for variant in ("candidate", "baseline"):
            for agent in ("support_agent", "qa_agent"):
                headers = {"x-genesis-user": unit_on(agent, variant)}
                messages = [{"role": "user", "content": PROMPTS[agent]}]
                client.chat.complete(model=agent, messages=messages, http_headers=headers)  # type: ignore[arg-type]
                with client.chat.stream(model=agent, messages=messages, http_headers=headers) as stream:  # type: ignore[arg-type]
                    for _ in stream:
                        pass

        def scored(agent: str, variant: str) -> float:
            return gw.metric("genesis_quality_scored_total", agent=agent, variant=variant, outcome="pass") + gw.metric(
                "genesis_quality_scored_total", agent=agent, variant=variant, outcome="fail"
            )

        wait_until(
            lambda: all(scored(a, v) == 2 for a in ("support_agent", "qa_agent") for v in ("candidate", "baseline")),
            what="8 scored samples",
        )
        for dimension in DIMENSIONS:
            labels = {"agent": "qa_agent", "variant": "candidate", "dimension": dimension}
            assert gw.metric("genesis_quality_score_count", **labels) == 2
            assert 0 < gw.metric("genesis_quality_score_sum", **labels) <= 20
        assert gw.metric("genesis_samples_offered_total", agent="qa_agent") == 4
        with urllib.request.urlopen(gw.url + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
        assert (
            'genesis_quality_score_bucket{agent="support_agent",dimension="specificity",le="10.0",variant="baseline"} 2.0'
            in text
        )
        assert "genesis_scoring_queue_depth" in text


def test_forced_requests_are_not_sampled() -> None:
    """A request that forces its variant (a benchmark, QA) is answered but never scored into the A/B data."""
    with running_gateway(scoring_config()) as gw:
        client = Mistral(api_key="k", server_url=gw.url)
        messages = [{"role": "user", "content": PROMPTS["qa_agent"]}]
        client.chat.complete(model="qa_agent", messages=messages, http_headers={"x-genesis-variant": "candidate"})  # type: ignore[arg-type]
        client.chat.complete(model="qa_agent", messages=messages)  # type: ignore[arg-type]
        wait_until(lambda: gw.metric("genesis_samples_offered_total", agent="qa_agent") == 1, what="one offer")
        assert gw.metric("genesis_samples_offered_total", agent="qa_agent") == 1


def test_stored_samples_are_redacted_and_feed_the_ab_store() -> None:
    """The in-memory result store holds the redacted prompt and answer, and the A/B moments."""
    with running_gateway(scoring_config()) as gw:
        client = Mistral(api_key="k", server_url=gw.url)
        client.chat.complete(model="support_agent", messages=[{"role": "user", "content": PROMPTS["support_agent"]}])
        assert gw.state.results is not None
        results = gw.state.results
        wait_until(lambda: gw.metric("genesis_samples_offered_total", agent="support_agent") == 1)
        wait_until(
            lambda: (
                sum(
                    gw.metric("genesis_quality_scored_total", agent="support_agent", variant=v, outcome=o)
                    for v in ("candidate", "baseline")
                    for o in ("pass", "fail")
                )
                == 1
            )
        )
        recent = asyncio.run(results.recent("support_agent"))
        arms = asyncio.run(results.stats("support_agent"))
    prompt = recent[0].record.messages[0].content
    assert "jane@example.com" not in prompt and "[email]" in prompt
    assert sum(arm.of("overall").count for arm in arms.values()) == 1


def test_a_full_queue_drops_and_counts_while_requests_return() -> None:
    """With the worker stalled and room for two samples, five requests all return and three samples are dropped."""

    def stall_worker(state: GatewayState) -> None:
        state.services = [s for s in state.services if not isinstance(s, MemorySampleQueue)]

    with running_gateway(scoring_config(queue_max_size=2), prepare=stall_worker) as gw:
        client = Mistral(api_key="k", server_url=gw.url)
        for _ in range(5):
            reply = client.chat.complete(model="qa_agent", messages=[{"role": "user", "content": PROMPTS["qa_agent"]}])
            assert reply.choices[0].message.content  # the request returned with its answer
        assert gw.metric("genesis_samples_offered_total", agent="qa_agent") == 5
        assert gw.metric("genesis_samples_dropped_total", agent="qa_agent", reason="queue_full") == 3


async def _scored_while_busy(cpu_share: float, seconds: float = 0.6) -> float:
    """Samples scored by a config's embedded queue while a task keeps the event loop busy the whole time."""
    registry = CollectorRegistry()
    # More samples than either share can score in ``seconds``: a queue that runs dry would cap the ratio.
    config = scoring_config(embedded_cpu_share=cpu_share, queue_max_size=20_000)
    parts = build_scoring(config, registry, {}, redis_url=None)
    queue = next(s for s in parts.services if isinstance(s, MemorySampleQueue))
    for i in range(20_000):
        queue.offer(exchange(f"req-{i}"))
    stop = asyncio.Event()

    async def busy_requests() -> None:
        while not stop.is_set():
            start = time.thread_time()
            while time.thread_time() - start < 0.0002:
                pass
            await asyncio.sleep(0)

    requests = asyncio.create_task(busy_requests())
    await queue.start()
    await asyncio.sleep(seconds)
    stop.set()
    await requests
    await queue.close()
    return sum(
        registry.get_sample_value(
            "genesis_quality_scored_total", {"agent": "qa_agent", "variant": "candidate", "outcome": o}
        )
        or 0.0
        for o in ("pass", "fail")
    )


async def test_the_embedded_scorer_keeps_to_its_cpu_share_while_requests_wait() -> None:
    """scoring.embedded_cpu_share bounds the in-process scorer on a busy loop: a tenth scores far less than all."""
    bounded = await _scored_while_busy(0.1)
    unbounded = await _scored_while_busy(1.0)
    assert 0 < bounded < unbounded / 3
