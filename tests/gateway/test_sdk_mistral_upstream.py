"""The real SDKs through the gateway to a separate fake Mistral server process (upstream kind ``mistral``).

The fake records what it received, so these tests check what the gateway forwards (model rewrite,
translation, the upstream key) as well as what it answers (bodies, headers, error mapping,
fallback, broken and abandoned streams) and what it meters.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx2
import openai as openai_sdk
import pytest
from mistralai.client import Mistral, errors

from gateway.settings import load_config
from tests.gateway.helpers import (
    AGENTS,
    EXAMPLE,
    FAKE_KEY,
    CollectingSink,
    FakeMistral,
    Gateway,
    HeaderTap,
    make_config,
    running_gateway,
)

PROMPT = [{"role": "user", "content": "Summarise clause 4"}]


def mistral(gw: Gateway, tap: HeaderTap | None = None) -> Mistral:
    return Mistral(api_key="client-key", server_url=gw.url, client=(tap or HeaderTap()).client())


def openai(gw: Gateway) -> openai_sdk.OpenAI:
    return openai_sdk.OpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0)


def answer_text(resp: httpx2.Response) -> str:
    """The answer of a JSON or SSE chat response."""
    if not resp.headers["content-type"].startswith("text/event-stream"):
        return str(resp.json()["choices"][0]["message"]["content"])
    parts = []
    for line in resp.text.splitlines():
        if line.startswith("data: {"):
            parts += [c["delta"].get("content") or "" for c in json.loads(line[6:])["choices"]]
    return "".join(parts)


def chats(fake: FakeMistral) -> list[dict[str, Any]]:
    return [r for r in fake.received() if r["path"] == "/v1/chat/completions"]


def test_forwarded_request_has_the_candidate_model_the_upstream_key_and_the_request_id(
    fake_gateway: Gateway, fake_mistral: FakeMistral
) -> None:
    """The agent alias is rewritten to the variant's model; the upstream gets its own key, not the client's."""
    tap = HeaderTap()
    reply = mistral(fake_gateway, tap).chat.complete(
        model="legal_agent",
        messages=PROMPT,
        temperature=0.2,
        http_headers={"X-Genesis-Variant": "candidate", "x-request-id": "req-123"},
    )
    assert reply.model == "ft:open-mistral-7b:legal"
    assert reply.choices[0].message.content == "echo ft:open-mistral-7b:legal: Summarise clause 4"
    assert reply.id.startswith("cmpl-")
    assert tap.last["x-genesis-model"] == "ft:open-mistral-7b:legal"
    assert tap.last["x-genesis-variant"] == "candidate"
    assert tap.last["x-request-id"] == "req-123"
    (received,) = chats(fake_mistral)
    assert received["body"]["model"] == "ft:open-mistral-7b:legal"
    assert received["body"]["messages"] == PROMPT
    assert received["body"]["temperature"] == 0.2
    assert received["body"]["stream"] is False
    assert received["headers"]["authorization"] == f"Bearer {FAKE_KEY}"
    assert received["headers"]["x-request-id"] == "req-123"
    assert "x-genesis-variant" not in received["headers"]


def test_baseline_is_forwarded_with_the_baseline_model(fake_gateway: Gateway, fake_mistral: FakeMistral) -> None:
    """Forcing the baseline sends the agent's baseline model id upstream."""
    reply = mistral(fake_gateway).chat.complete(
        model="legal_agent", messages=PROMPT, http_headers={"X-Genesis-Variant": "baseline"}
    )
    assert reply.model == "open-mistral-7b"
    assert chats(fake_mistral)[0]["body"]["model"] == "open-mistral-7b"


def test_openai_dialect_is_translated_for_the_mistral_upstream(
    fake_gateway: Gateway, fake_mistral: FakeMistral
) -> None:
    """max_completion_tokens -> max_tokens, seed -> random_seed; user/store/stream_options dropped; unknown fields kept."""
    client = openai(fake_gateway)
    client.chat.completions.create(
        model="legal_agent",
        messages=PROMPT,  # type: ignore[arg-type]
        max_completion_tokens=50,
        seed=11,
        user="unit-9",
        store=False,
        extra_body={"custom_field": {"x": 1}, "safe_prompt": True},
    )
    stream = client.chat.completions.create(
        model="legal_agent",
        messages=PROMPT,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    plain, streamed = (r["body"] for r in chats(fake_mistral))
    assert plain["max_tokens"] == 50
    assert plain["random_seed"] == 11
    assert plain["custom_field"] == {"x": 1}
    assert plain["safe_prompt"] is True
    for dropped in ("max_completion_tokens", "seed", "user", "store"):
        assert dropped not in plain
    assert streamed["stream"] is True
    assert "stream_options" not in streamed
    assert chunks[-1].usage is not None


def test_mistralai_stream_through_the_fake(fake_gateway: Gateway, fake_mistral: FakeMistral) -> None:
    """A stream is relayed event by event: the answer, usage on the final chunk, and tokens metered."""
    tap = HeaderTap()
    with mistral(fake_gateway, tap).chat.stream(
        model="legal_agent", messages=PROMPT, http_headers={"X-Genesis-Variant": "candidate"}
    ) as events:
        chunks = [e.data for e in events]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)  # type: ignore[misc]
    assert text == "echo ft:open-mistral-7b:legal: Summarise clause 4"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.usage is not None
    assert tap.last["x-genesis-variant"] == "candidate"
    labels = {"agent": "legal_agent", "variant": "candidate", "model": "ft:open-mistral-7b:legal"}
    assert fake_gateway.wait_metric("genesis_requests_total", 1, **labels, status_class="2xx") == 1
    assert fake_gateway.metric("genesis_tokens_total", **labels, type="input") == last.usage.prompt_tokens
    assert fake_gateway.metric("genesis_tokens_total", **labels, type="output") == last.usage.completion_tokens
    assert fake_gateway.metric("genesis_time_to_first_token_seconds_count", **labels) == 1
    assert chats(fake_mistral)[0]["headers"]["accept"] == "text/event-stream"


def test_pass_through_model_is_forwarded_unchanged(fake_gateway: Gateway, fake_mistral: FakeMistral) -> None:
    """A listed model id goes to its upstream as is and is metered with cost under agent 'none'."""
    reply = mistral(fake_gateway).chat.complete(model="open-mistral-7b", messages=PROMPT)
    assert reply.model == "open-mistral-7b"
    assert chats(fake_mistral)[0]["body"]["model"] == "open-mistral-7b"
    labels = {"agent": "none", "variant": "none", "model": "open-mistral-7b"}
    tokens = (reply.usage.prompt_tokens or 0) + (reply.usage.completion_tokens or 0)
    assert fake_gateway.metric("genesis_cost_usd_total", **labels) == pytest.approx(tokens * 0.25 / 1e6)


def test_upstream_503_is_retried_then_answered_as_a_mistral_shaped_503(
    fake_gateway: Gateway, fake_mistral: FakeMistral
) -> None:
    """A 503 upstream is tried retries+1 times, then the client gets 503 upstream_unavailable; the SDKs raise."""
    with httpx2.Client(base_url=fake_gateway.url) as http:
        resp = http.post("/v1/chat/completions", json={"model": "fail-503", "messages": PROMPT})
    assert resp.status_code == 503
    body = resp.json()
    assert body["object"] == "error"
    assert body["type"] == "upstream_unavailable"
    assert "503" in body["message"]
    assert len(chats(fake_mistral)) == 2
    assert fake_gateway.metric("genesis_upstream_errors_total", upstream="fake", reason="status_503") == 1
    with pytest.raises(errors.SDKError) as info:
        mistral(fake_gateway).chat.complete(model="fail-503", messages=PROMPT)
    assert info.value.status_code == 503
    assert "upstream_unavailable" in info.value.body
    with pytest.raises(openai_sdk.InternalServerError) as oa_info:
        openai(fake_gateway).chat.completions.create(model="fail-503", messages=PROMPT)  # type: ignore[arg-type]
    assert oa_info.value.status_code == 503
    assert "fake answered 503" in oa_info.value.message


def test_upstream_500_is_a_502(fake_gateway: Gateway) -> None:
    """Another upstream 5xx becomes 502 upstream_error, also for a stream that fails before its first byte."""
    with httpx2.Client(base_url=fake_gateway.url) as http:
        plain = http.post("/v1/chat/completions", json={"model": "fail-500", "messages": PROMPT})
        streamed = http.post("/v1/chat/completions", json={"model": "fail-500", "messages": PROMPT, "stream": True})
    for resp in (plain, streamed):
        assert resp.status_code == 502
        assert resp.json()["type"] == "upstream_error"
    assert fake_gateway.metric("genesis_upstream_errors_total", upstream="fake", reason="status_500") == 2


def test_upstream_422_is_passed_through(fake_gateway: Gateway) -> None:
    """The upstream's own 422 reaches the client unchanged; mistralai raises HTTPValidationError, openai 422."""
    with httpx2.Client(base_url=fake_gateway.url) as http:
        resp = http.post("/v1/chat/completions", json={"model": "fail-422", "messages": PROMPT})
    assert resp.status_code == 422
    assert resp.json()["message"]["detail"][0]["type"] == "extra_forbidden"
    assert resp.headers["x-genesis-model"] == "fail-422"
    with pytest.raises(errors.HTTPValidationError):
        mistral(fake_gateway).chat.complete(model="fail-422", messages=PROMPT)
    with pytest.raises(openai_sdk.UnprocessableEntityError):
        openai(fake_gateway).chat.completions.create(model="fail-422", messages=PROMPT)  # type: ignore[arg-type]
    assert fake_gateway.metric("genesis_upstream_errors_total", upstream="fake", reason="status_422") == 0


def test_upstream_429_passes_with_its_retry_after(fake_gateway: Gateway) -> None:
    """The upstream's 429 reaches the client with its retry-after header."""
    with httpx2.Client(base_url=fake_gateway.url) as http:
        resp = http.post("/v1/chat/completions", json={"model": "fail-429", "messages": PROMPT})
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "7"
    assert resp.json()["message"] == "fake upstream failure 429"


@pytest.mark.parametrize("stream", [False, True])
def test_failing_candidate_falls_back_to_the_baseline(
    fake_gateway: Gateway, fake_mistral: FakeMistral, stream: bool
) -> None:
    """The candidate's upstream failing before the answer: the baseline serves it, flagged and counted."""
    body = {"model": "content_agent", "messages": PROMPT, "stream": stream}
    with httpx2.Client(base_url=fake_gateway.url) as http:
        resp = http.post("/v1/chat/completions", json=body, headers={"x-genesis-user": "u1"})
    assert resp.status_code == 200
    assert resp.headers["x-genesis-fallback"] == "true"
    assert resp.headers["x-genesis-variant"] == "candidate"
    assert resp.headers["x-genesis-model"] == "open-mistral-7b"
    assert answer_text(resp) == "echo open-mistral-7b: Summarise clause 4"
    models = [r["body"]["model"] for r in chats(fake_mistral)]
    assert models == ["fail-503", "fail-503", "open-mistral-7b"]
    assert fake_gateway.metric("genesis_fallbacks_total", agent="content_agent") == 1
    assert fake_gateway.metric("genesis_upstream_errors_total", upstream="fake", reason="status_503") == 1
    labels = {"agent": "content_agent", "variant": "candidate", "model": "open-mistral-7b"}
    assert fake_gateway.wait_metric("genesis_requests_total", 1, **labels, status_class="2xx") == 1


def test_fallback_with_the_mistralai_sdk(fake_gateway: Gateway) -> None:
    """The SDK gets the baseline's answer without noticing the candidate failed."""
    tap = HeaderTap()
    reply = mistral(fake_gateway, tap).chat.complete(model="content_agent", messages=PROMPT)
    assert reply.model == "open-mistral-7b"
    assert tap.last["x-genesis-fallback"] == "true"


def test_stream_cut_by_the_upstream_ends_with_an_error_chunk(fake_gateway: Gateway, fake_mistral: FakeMistral) -> None:
    """The upstream dropping the connection mid-stream: the mistralai iterator ends on finish_reason 'error'."""
    with mistral(fake_gateway).chat.stream(model="cut-stream", messages=PROMPT) as events:
        chunks = [e.data for e in events]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[1].choices[0].delta.content == "echo"
    assert chunks[-1].choices[0].finish_reason == "error"
    assert chunks[-1].model == "cut-stream"
    assert fake_mistral.received()[0]["outcome"] == "cut"
    assert fake_gateway.wait_metric("genesis_upstream_errors_total", 1, upstream="fake", reason="mid_stream") == 1
    labels = {"agent": "none", "variant": "none", "model": "cut-stream"}
    assert fake_gateway.wait_metric("genesis_requests_total", 1, **labels, status_class="5xx") == 1


def test_stream_cut_by_the_upstream_with_the_openai_sdk(fake_gateway: Gateway) -> None:
    """The openai SDK also reads the broken stream to its end, the last choice finishing with 'error'."""
    stream = openai(fake_gateway).chat.completions.create(model="cut-stream", messages=PROMPT, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    assert chunks[-1].choices[0].finish_reason == "error"  # type: ignore[comparison-overlap]


def test_client_disconnect_cancels_the_upstream_request(fake_gateway: Gateway, fake_mistral: FakeMistral) -> None:
    """A client leaving mid-stream makes the gateway drop its upstream connection, and records status 499."""
    body = json.dumps({"model": "slow-40", "messages": PROMPT, "stream": True}).encode()
    port = int(fake_gateway.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        first = sock.recv(65536)
        assert b"200" in first.split(b"\r\n", 1)[0]
    records = fake_mistral.wait_for(lambda rs: bool(rs) and rs[0]["outcome"] != "pending")
    assert records[0]["outcome"] == "client_disconnected"
    labels = {"agent": "none", "variant": "none", "model": "slow-40"}
    assert fake_gateway.wait_metric("genesis_requests_total", 1, **labels, status_class="4xx") == 1


def test_upstream_rejecting_the_gateway_key_is_a_502(fake_mistral: FakeMistral) -> None:
    """A wrong upstream key gives the client 502 (the gateway's fault, not the client's) and counts reason 'auth'."""
    with running_gateway(make_config(fake_mistral.url), env={"TEST_FAKE_MISTRAL_KEY": "wrong"}) as gw:
        with httpx2.Client(base_url=gw.url) as http:
            resp = http.post("/v1/chat/completions", json={"model": "open-mistral-7b", "messages": PROMPT})
        assert resp.status_code == 502
        assert "api_key_env" in resp.json()["message"]
        assert gw.metric("genesis_upstream_errors_total", upstream="fake", reason="auth") == 1


def test_unreachable_upstream_is_a_503() -> None:
    """An upstream nobody listens on gives 503 upstream_unavailable, reason 'connect'."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with running_gateway(make_config(dead)) as gw:
        with httpx2.Client(base_url=gw.url) as http:
            resp = http.post("/v1/chat/completions", json={"model": "open-mistral-7b", "messages": PROMPT})
        assert resp.status_code == 503
        assert resp.json()["type"] == "upstream_unavailable"
        assert gw.metric("genesis_upstream_errors_total", upstream="fake", reason="connect") == 1


def test_example_config_against_the_fake(fake_mistral: FakeMistral) -> None:
    """examples/gateway.yaml with MISTRAL_BASE_URL at the fake: /v1/models lists the five agents; chat reaches ft ids."""
    env = {"MISTRAL_API_KEY": FAKE_KEY, "MISTRAL_BASE_URL": fake_mistral.url}
    config = load_config(EXAMPLE, env=env)
    with running_gateway(config, env=env) as gw:
        client = Mistral(api_key="k", server_url=gw.url)
        listed = client.models.list()
        assert listed.data is not None
        ids = [card.id for card in listed.data]  # type: ignore[union-attr]
        assert set(ids[:5]) == AGENTS
        assert ids[5:] == ["mistral-small-latest", "open-mistral-7b"]
        reply = client.chat.complete(model="qa_agent", messages=PROMPT, http_headers={"X-Genesis-Variant": "candidate"})
    assert reply.model == "ft:open-mistral-7b:5010731d:20251031:ecc3829c"
    assert chats(fake_mistral)[0]["body"]["model"] == "ft:open-mistral-7b:5010731d:20251031:ecc3829c"


def test_fallback_that_fails_too_counts_both_upstream_errors(fake_mistral: FakeMistral) -> None:
    """Candidate and baseline both failing: the client gets the baseline's error, and both failures are counted."""
    config = make_config(fake_mistral.url)
    content = config.agents["content_agent"]
    broken = content.model_copy(update={"baseline": content.baseline.model_copy(update={"model": "fail-500"})})
    config = config.model_copy(update={"agents": {**config.agents, "content_agent": broken}})
    with running_gateway(config) as gw:
        for stream in (False, True):
            with httpx2.Client(base_url=gw.url) as http:
                body = {"model": "content_agent", "messages": PROMPT, "stream": stream}
                resp = http.post("/v1/chat/completions", json=body)
            assert resp.status_code == 502
            assert resp.headers["x-genesis-fallback"] == "true"
        assert gw.metric("genesis_upstream_errors_total", upstream="fake", reason="status_503") == 2
        assert gw.metric("genesis_upstream_errors_total", upstream="fake", reason="status_500") == 2
        assert gw.metric("genesis_fallbacks_total", agent="content_agent") == 2
        labels = {"agent": "content_agent", "variant": "candidate", "model": "fail-500"}
        assert gw.metric("genesis_requests_total", **labels, status_class="5xx") == 2


def test_stream_ending_without_done_gets_done_from_the_gateway(fake_gateway: Gateway) -> None:
    """An upstream stream that just ends (no [DONE]) is relayed whole and closed with data: [DONE]."""
    with httpx2.Client(base_url=fake_gateway.url) as http:
        resp = http.post("/v1/chat/completions", json={"model": "no-done", "messages": PROMPT, "stream": True})
    assert resp.status_code == 200
    assert resp.text.endswith("data: [DONE]\n\n")
    assert resp.text.count("[DONE]") == 1
    assert answer_text(resp) == "echo no-done: Summarise clause 4"


def test_openai_kind_upstream_gets_the_openai_dialect(fake_mistral: FakeMistral) -> None:
    """To an OpenAI-compatible upstream the SDK's tool conversation goes with string arguments, seed, no prefix/index."""
    config = make_config(fake_mistral.url)
    oa = config.upstreams["fake"].model_copy(update={"kind": "openai", "models": ("served-by-vllm",)})
    config = config.model_copy(update={"upstreams": {**config.upstreams, "fake": oa}})
    messages: list[Any] = [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "abcdefghi", "type": "function", "function": {"name": "weather", "arguments": {"city": "Paris"}}}
            ],
        },
        {"role": "tool", "tool_call_id": "abcdefghi", "name": "weather", "content": "sunny"},
    ]
    with running_gateway(config) as gw:
        client = mistral(gw)
        client.chat.complete(model="served-by-vllm", messages=messages, random_seed=5, tool_choice="any")
        with client.chat.stream(model="served-by-vllm", messages=messages) as events:
            chunks = [e.data for e in events]
        labels = {"agent": "none", "variant": "none", "model": "served-by-vllm", "type": "output"}
        metered = gw.wait_metric("genesis_tokens_total", 2, **labels)
    # OpenAI's dialect: usage in a last chunk without choices, relayed and metered like Mistral's.
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert metered == 2 * chunks[-1].usage.completion_tokens
    plain, streamed = (r["body"] for r in chats(fake_mistral))
    assert plain["seed"] == 5
    assert "random_seed" not in plain
    assert plain["tool_choice"] == "required"
    assistant = plain["messages"][1]
    assert "prefix" not in assistant
    assert "index" not in assistant["tool_calls"][0]
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert streamed["stream_options"] == {"include_usage": True}


def test_upstream_slower_than_its_timeout_is_a_504(fake_mistral: FakeMistral) -> None:
    """An upstream that does not answer within timeout_s gives 504 upstream_timeout, not retried, reason 'timeout'."""
    config = make_config(fake_mistral.url)
    slow = config.upstreams["fake"].model_copy(update={"timeout_s": 0.2, "models": ("slow-1500",)})
    config = config.model_copy(update={"upstreams": {**config.upstreams, "fake": slow}})
    with running_gateway(config) as gw:
        with httpx2.Client(base_url=gw.url, timeout=10) as http:
            resp = http.post("/v1/chat/completions", json={"model": "slow-1500", "messages": PROMPT})
        assert resp.status_code == 504
        assert resp.json()["type"] == "upstream_timeout"
        assert gw.metric("genesis_upstream_errors_total", upstream="fake", reason="timeout") == 1
    assert len(chats(fake_mistral)) == 1


def test_gateway_overhead_of_a_stream_excludes_the_wait_for_upstream_chunks(fake_mistral: FakeMistral) -> None:
    """Overhead is duration minus time waiting on the upstream, which for a stream includes the wait for every chunk.

    The fake sleeps 40 ms before each of its 8 events, so at least 0.32 s of each stream is upstream time.
    A gateway starved of CPU may find two events already buffered and wait less for the second, so the
    bound asserted is half the upstream time: an overhead that included the generation would break it.
    """
    config = make_config(fake_mistral.url)
    slow = config.agents["legal_agent"].model_copy(
        update={"candidate": config.agents["legal_agent"].candidate.model_copy(update={"model": "slow-40"})}
    )
    config = config.model_copy(update={"agents": {**config.agents, "legal_agent": slow}})
    with running_gateway(config) as gw:
        headers = {"X-Genesis-Variant": "candidate"}
        with mistral(gw).chat.stream(model="legal_agent", messages=PROMPT, http_headers=headers) as events:
            assert [e.data for e in events][-1].choices[0].finish_reason == "stop"
        labels = {"agent": "legal_agent", "variant": "candidate", "model": "slow-40"}
        assert gw.wait_metric("genesis_request_duration_seconds_count", 1, **labels) == 1
        duration = gw.metric("genesis_request_duration_seconds_sum", **labels)
        overhead = gw.metric("genesis_gateway_overhead_seconds_sum", agent="legal_agent")
    assert duration >= 0.32
    assert overhead <= duration - 0.16, (overhead, duration)


def test_stream_is_relayed_as_it_arrives_not_buffered(fake_gateway: Gateway, fake_mistral: FakeMistral) -> None:
    """The client holds the first content event while the upstream is still generating the rest."""
    body = {"model": "slow-300", "messages": PROMPT, "stream": True}
    with (
        httpx2.Client(base_url=fake_gateway.url, timeout=10) as http,
        http.stream("POST", "/v1/chat/completions", json=body) as resp,
    ):
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.startswith("data: {") and '"echo"' in line:
                break
        assert chats(fake_mistral)[0]["outcome"] == "pending"
    fake_mistral.wait_for(lambda rs: rs[0]["outcome"] == "client_disconnected")


def test_upstream_422_on_a_stream_is_passed_through(fake_gateway: Gateway) -> None:
    """A stream refused by the upstream before its first byte gets the upstream's 422 as JSON."""
    with pytest.raises(errors.HTTPValidationError):
        mistral(fake_gateway).chat.stream(model="fail-422", messages=PROMPT)


def test_rejected_request_is_recorded_as_upstream_rejected(fake_mistral: FakeMistral) -> None:
    """A sampled request the upstream refuses (422) is recorded with status 422 and error 'upstream_rejected'."""
    config = make_config(fake_mistral.url)
    legal = config.agents["legal_agent"]
    rejected = legal.model_copy(
        update={
            "sample_rate": 1.0,
            "overrides": {"pinned": "candidate"},
            "candidate": legal.candidate.model_copy(update={"model": "fail-422"}),
        }
    )
    config = config.model_copy(update={"agents": {**config.agents, "legal_agent": rejected}})
    sink = CollectingSink()
    with running_gateway(config, sink=sink) as gw, httpx2.Client(base_url=gw.url) as http:
        body = {"model": "legal_agent", "messages": PROMPT}
        resp = http.post("/v1/chat/completions", json=body, headers={"x-genesis-user": "pinned"})
    assert resp.status_code == 422
    (ex,) = sink.offered
    assert (ex.status, ex.error, ex.answer) == (422, "upstream_rejected", None)


def test_a_silent_upstream_stream_gets_keepalive_comments_the_sdks_skip(fake_mistral: FakeMistral) -> None:
    """Gaps longer than sse_keepalive_s carry ': ping' comments between whole events; both SDKs read the same answer."""
    with running_gateway(make_config(fake_mistral.url, sse_keepalive_s=0.05)) as gw:
        with httpx2.Client(base_url=gw.url, timeout=10) as http:
            raw = http.post("/v1/chat/completions", json={"model": "slow-150", "messages": PROMPT, "stream": True})
        with mistral(gw).chat.stream(model="slow-150", messages=PROMPT) as events:  # type: ignore[arg-type]
            by_mistral = "".join(e.data.choices[0].delta.content or "" for e in events if e.data.choices)  # type: ignore[misc]
        stream = openai(gw).chat.completions.create(model="slow-150", messages=PROMPT, stream=True)  # type: ignore[arg-type]
        by_openai = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    events = raw.text.split("\n\n")
    assert events.count(": ping") >= 4  # eight gaps of 150 ms, each at least two heartbeats long
    assert all(e == ": ping" or e.startswith("data: ") or e == "" for e in events)  # never inside an event
    assert answer_text(raw) == by_mistral == by_openai == "echo slow-150: Summarise clause 4"


def test_keepalive_zero_sends_no_comments(fake_mistral: FakeMistral) -> None:
    """sse_keepalive_s: 0 turns the comments off: the client gets the upstream's events only."""
    config = make_config(fake_mistral.url, sse_keepalive_s=0)
    with running_gateway(config) as gw, httpx2.Client(base_url=gw.url, timeout=10) as http:
        raw = http.post("/v1/chat/completions", json={"model": "slow-150", "messages": PROMPT, "stream": True})
    assert ": ping" not in raw.text
    assert answer_text(raw) == "echo slow-150: Summarise clause 4"
