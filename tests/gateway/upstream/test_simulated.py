"""The built-in simulator: deterministic Mistral-shaped answers, streaming, profiles, failure injection."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.errors import UpstreamUnavailable
from gateway.settings import SimulatorConfig
from gateway.upstream.simulated import SimulatedUpstream
from gateway.wire import SseScanner

FAST = SimulatorConfig(first_token_ms=0, tokens_per_second=100_000)


def payload(model: str, prompt: str = "How do I test async functions in pytest?") -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}]}


async def started(config: SimulatorConfig = FAST) -> SimulatedUpstream:
    upstream = SimulatedUpstream("sim", config)
    await upstream.start()
    return upstream


async def test_complete_is_mistral_shaped_and_deterministic() -> None:
    """A non-streaming answer has the fields the mistralai SDK requires and repeats for the same model and prompt."""
    sim = await started()
    first = json.loads((await sim.complete(payload("ft:m:qa"), request_id="r1")).body)
    again = json.loads((await sim.complete(payload("ft:m:qa"), request_id="r2")).body)
    assert {"id", "object", "model", "created", "choices", "usage"} <= set(first)
    assert first["object"] == "chat.completion"
    assert first["model"] == "ft:m:qa"
    assert first["choices"][0]["finish_reason"] == "stop"
    assert first["choices"][0]["message"]["role"] == "assistant"
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]
    usage = first["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_fine_tuned_and_base_models_answer_differently() -> None:
    """An ft: model answers in the structured profile (numbered steps); the base model does not, and prompts matter."""
    sim = await started()

    async def text(model: str, prompt: str = "How do I test async functions in pytest?") -> str:
        body = json.loads((await sim.complete(payload(model, prompt), request_id="r")).body)
        return str(body["choices"][0]["message"]["content"])

    tuned, base = await text("ft:m:qa"), await text("open-mistral-7b")
    assert tuned != base
    assert re.search(r"^1\. ", tuned, re.MULTILINE)
    assert not re.search(r"^1\. ", base, re.MULTILINE)
    assert await text("ft:m:qa", "Draft a GDPR privacy clause") != tuned


async def test_stream_adds_up_to_the_complete_answer() -> None:
    """The stream's deltas concatenate to the non-streaming answer; usage rides on the last chunk; [DONE] ends it."""
    sim = await started()
    whole = json.loads((await sim.complete(payload("ft:m:qa"), request_id="r")).body)
    scanner = SseScanner(want_text=True)
    raw = b""
    async with sim.stream(payload("ft:m:qa"), request_id="r") as handle:
        async for piece in handle.chunks():
            raw += piece
            scanner.feed(piece)
    assert scanner.text() == whole["choices"][0]["message"]["content"]
    assert scanner.facts.output_tokens == whole["usage"]["completion_tokens"]
    assert scanner.facts.finish_reason == "stop"
    assert scanner.done
    assert raw.endswith(b"data: [DONE]\n\n")


async def test_a_silent_gap_is_marked_by_empty_pieces_per_heartbeat() -> None:
    """With heartbeat_s, a first-token wait of 120 ms yields two empty pieces at 50 ms, then the same events."""
    slow = FAST.model_copy(update={"first_token_ms": 120})
    sim = await started(slow)
    async with sim.stream(payload("ft:m:qa"), request_id="r") as handle:
        beating = [piece async for piece in handle.chunks(heartbeat_s=0.05)]
    async with sim.stream(payload("ft:m:qa"), request_id="r") as handle:
        plain = [piece async for piece in handle.chunks()]
    assert beating[:3] == [b"", b"", beating[2]]
    assert beating[2].startswith(b"data: ")
    assert [_undated(p) for p in beating if p] == [_undated(p) for p in plain]
    assert b"" not in plain


def _undated(event: bytes) -> bytes:
    return re.sub(rb'"created":\d+', b"", event)


async def test_error_rate_one_always_fails_with_503() -> None:
    """With error_rate 1 every request raises UpstreamUnavailable (reason status_503), streamed or not."""
    sim = await started(FAST.model_copy(update={"error_rate": 1.0}))
    with pytest.raises(UpstreamUnavailable) as info:
        await sim.complete(payload("m"), request_id="r")
    assert info.value.reason == "status_503"
    with pytest.raises(UpstreamUnavailable):
        async with sim.stream(payload("m"), request_id="r"):
            pass


async def test_error_rate_is_repeatable_with_its_seed() -> None:
    """Two simulators with the same seed fail on the same requests."""

    async def pattern() -> list[bool]:
        sim = await started(FAST.model_copy(update={"error_rate": 0.5, "seed": 3}))
        outcome = []
        for _ in range(20):
            try:
                await sim.complete(payload("m"), request_id="r")
                outcome.append(True)
            except UpstreamUnavailable:
                outcome.append(False)
        return outcome

    first = await pattern()
    assert first == await pattern()
    assert True in first
    assert False in first


async def test_not_started_is_unavailable_and_not_ready() -> None:
    """Before start (or after close) the simulator is not ready and refuses requests."""
    sim = SimulatedUpstream("sim", FAST)
    assert not sim.ready
    with pytest.raises(UpstreamUnavailable):
        await sim.complete(payload("m"), request_id="r")
    await sim.start()
    assert sim.ready
    await sim.close()
    assert not sim.ready
