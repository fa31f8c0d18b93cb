"""The real mistralai and openai SDKs against a gateway on a loopback port, agents on the built-in simulator."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import httpx2
import pytest
from mistralai.client import Mistral
from mistralai.client.errors import HTTPValidationError
from openai import OpenAI, UnprocessableEntityError

from gateway.routing.assign import bucket, share_to_threshold
from tests.gateway.helpers import CollectingSink, Gateway, HeaderTap, make_config, running_gateway

PROMPT = [{"role": "user", "content": "How do I get a refund for a double charge?"}]
SUPPORT_MODELS = {"candidate": "ft:sim-base:support", "baseline": "sim-base"}
PRICES = {"ft:sim-base:support": (2.0, 6.0), "sim-base": (1.0, 3.0)}


def mistral(gw: Gateway, tap: HeaderTap | None = None) -> Mistral:
    return Mistral(api_key="any", server_url=gw.url, client=(tap or HeaderTap()).client())


def openai(gw: Gateway) -> OpenAI:
    return OpenAI(base_url=gw.url + "/v1", api_key="any", max_retries=0)


def rejected_locs(body: str) -> list[Any]:
    """The ``loc`` of every problem in a Mistral 422 body."""
    return [problem["loc"] for problem in json.loads(body)["message"]["detail"]]


def expected_variant(unit: str, share: float = 30, salt: str = "support_agent") -> str:
    return "candidate" if bucket(salt, unit) < share_to_threshold(share) else "baseline"


def test_mistralai_complete_returns_the_simulated_answer_with_gateway_headers(sim_gateway: Gateway) -> None:
    """chat.complete on an agent alias: a Mistral-shaped answer and x-request-id/agent/variant/model headers."""
    tap = HeaderTap()
    reply = mistral(sim_gateway, tap).chat.complete(
        model="support_agent", messages=PROMPT, http_headers={"X-Genesis-User": "user-1"}
    )
    headers = tap.last
    variant = expected_variant("user-1")
    assert headers["x-genesis-agent"] == "support_agent"
    assert headers["x-genesis-variant"] == variant
    assert headers["x-genesis-model"] == SUPPORT_MODELS[variant]
    assert len(headers["x-request-id"]) >= 16
    assert "x-genesis-fallback" not in headers
    assert reply.model == SUPPORT_MODELS[variant]
    assert reply.object == "chat.completion"
    assert reply.choices[0].finish_reason == "stop"
    assert isinstance(reply.choices[0].message.content, str)
    assert "refund" in reply.choices[0].message.content.lower()
    assert reply.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens > 0


def test_mistralai_stream_relays_chunks_with_usage_on_the_last(sim_gateway: Gateway) -> None:
    """chat.stream: chunks add up to the same answer as complete, the last carries usage and finish_reason."""
    tap = HeaderTap()
    client = mistral(sim_gateway, tap)
    unit = {"X-Genesis-User": "user-2"}
    whole = client.chat.complete(model="support_agent", messages=PROMPT, http_headers=unit)
    with client.chat.stream(model="support_agent", messages=PROMPT, http_headers=unit) as events:
        chunks = [event.data for event in events]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)  # type: ignore[operator]
    assert text == whole.choices[0].message.content
    assert len(chunks) > 3
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.usage is not None
    assert last.usage.completion_tokens == whole.usage.completion_tokens
    headers = tap.last
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-genesis-variant"] == expected_variant("user-2")
    assert headers["x-genesis-model"] == last.model


def test_openai_complete_and_stream(sim_gateway: Gateway) -> None:
    """The openai SDK (base_url .../v1) gets the same answer streamed and not, and reads the headers."""
    client = openai(sim_gateway)
    raw = client.chat.completions.with_raw_response.create(
        model="support_agent", messages=PROMPT, extra_headers={"X-Genesis-User": "user-3"}
    )
    completion = raw.parse()
    variant = expected_variant("user-3")
    assert raw.headers["x-genesis-variant"] == variant
    assert raw.headers["x-genesis-model"] == completion.model == SUPPORT_MODELS[variant]
    assert raw.headers["x-genesis-agent"] == "support_agent"
    assert raw.headers["x-request-id"]
    stream = client.chat.completions.create(
        model="support_agent", messages=PROMPT, stream=True, extra_headers={"X-Genesis-User": "user-3"}
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == completion.choices[0].message.content
    )
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == completion.usage.total_tokens  # type: ignore[union-attr]


def test_mistralai_gets_the_apis_422_for_an_invalid_body(sim_gateway: Gateway) -> None:
    """temperature 3.5 (complete) and n 0 (stream): HTTPValidationError 422 naming the field, no fallback, no stream."""
    client = mistral(sim_gateway)
    unit = {"X-Genesis-User": "invalid-body"}
    variant = expected_variant("invalid-body")
    with pytest.raises(HTTPValidationError) as complete:
        client.chat.complete(model="support_agent", messages=PROMPT, temperature=3.5, http_headers=unit)
    assert complete.value.status_code == 422
    assert complete.value.headers["content-type"].startswith("application/json")
    assert "temperature" in str(complete.value)  # the SDK's message is the body
    assert rejected_locs(str(complete.value)) == [["body", "temperature"]]
    with pytest.raises(HTTPValidationError) as stream:
        client.chat.stream(model="support_agent", messages=PROMPT, n=0, http_headers=unit)
    assert stream.value.status_code == 422
    assert rejected_locs(str(stream.value)) == [["body", "n"]]
    labels = {"agent": "support_agent", "variant": variant, "model": SUPPORT_MODELS[variant]}
    assert sim_gateway.wait_metric("genesis_requests_total", 2, **labels, status_class="4xx") == 2
    assert sim_gateway.metric("genesis_fallbacks_total", agent="support_agent") == 0


def test_openai_gets_the_apis_422_for_an_invalid_body(sim_gateway: Gateway) -> None:
    """role 'wizard' (complete) and top_p 1.5 (stream): UnprocessableEntityError 422 whose body names the field.

    The SDK's message is only "Error code: 422": it quotes a body's ``message`` when that is a string,
    and Mistral's 422 puts an object there (the real API's answer reads the same).
    """
    client = openai(sim_gateway)
    with pytest.raises(UnprocessableEntityError) as complete:
        client.chat.completions.create(
            model="support_agent",
            messages=[{"role": "wizard", "content": "abracadabra"}],  # type: ignore[misc,list-item]
        )
    assert complete.value.status_code == 422
    assert complete.value.type == "invalid_request_error"
    (problem,) = complete.value.body["message"]["detail"]  # type: ignore[index]
    assert problem["loc"] == ["body", "messages", 0]
    assert "'wizard' found using 'role'" in problem["msg"]
    with pytest.raises(UnprocessableEntityError) as stream:
        client.chat.completions.create(model="support_agent", messages=PROMPT, stream=True, top_p=1.5)  # type: ignore[arg-type]
    assert stream.value.status_code == 422
    assert rejected_locs(stream.value.response.text) == [["body", "top_p"]]


def test_same_unit_keeps_its_variant_across_calls(sim_gateway: Gateway) -> None:
    """Every call with the same X-Genesis-User is served by the same variant, the one the hash picks."""
    tap = HeaderTap()
    client = mistral(sim_gateway, tap)
    for unit in [f"sticky-{i}" for i in range(12)]:
        seen = set()
        for _ in range(3):
            client.chat.complete(model="support_agent", messages=PROMPT, http_headers={"X-Genesis-User": unit})
            seen.add(tap.last["x-genesis-variant"])
        assert seen == {expected_variant(unit)}


def test_body_user_field_is_the_unit_when_no_header_is_sent(sim_gateway: Gateway) -> None:
    """Without X-Genesis-User, OpenAI's user field (or metadata.user_id) is the unit id."""
    client = openai(sim_gateway)
    for unit in [f"body-{i}" for i in range(8)]:
        raw = client.chat.completions.with_raw_response.create(model="support_agent", messages=PROMPT, user=unit)
        assert raw.headers["x-genesis-variant"] == expected_variant(unit)
        meta = client.chat.completions.with_raw_response.create(
            model="support_agent", messages=PROMPT, extra_body={"metadata": {"user_id": unit}}
        )
        assert meta.headers["x-genesis-variant"] == expected_variant(unit)


def test_split_of_300_units_end_to_end_is_within_4_5_sigma(sim_gateway: Gateway) -> None:
    """300 units through the gateway at 30 %: each gets the hash's variant; the candidate count is 90 ± 35.

    Binomial(300, 0.3): sd = sqrt(300 × 0.3 × 0.7) = 7.94, so 4.5 sd = 35.7 units.
    """
    n, p = 300, 0.3
    candidates = 0
    body = {"model": "support_agent", "messages": PROMPT}
    with httpx2.Client(base_url=sim_gateway.url) as http:
        for i in range(n):
            unit = f"e2e-{i}"
            resp = http.post("/v1/chat/completions", json=body, headers={"x-genesis-user": unit})
            assert resp.status_code == 200
            variant = resp.headers["x-genesis-variant"]
            assert variant == expected_variant(unit)
            assert resp.json()["model"] == SUPPORT_MODELS[variant]
            candidates += variant == "candidate"
    assert abs(candidates - n * p) <= 4.5 * math.sqrt(n * p * (1 - p)), candidates
    total = sum(
        sim_gateway.metric("genesis_requests_total", agent="support_agent", variant=v, model=m, status_class="2xx")
        for v, m in SUPPORT_MODELS.items()
    )
    assert total == n
    assert (
        sim_gateway.metric("genesis_assignments_total", agent="support_agent", variant="candidate", reason="hash")
        == candidates
    )


def test_no_unit_means_a_random_assignment_per_request(sim_gateway: Gateway) -> None:
    """Without any unit id, requests are assigned one by one (reason 'random'), both variants appear."""
    body = {"model": "qa_agent", "messages": PROMPT}
    with httpx2.Client(base_url=sim_gateway.url) as http:
        variants = {http.post("/v1/chat/completions", json=body).headers["x-genesis-variant"] for _ in range(40)}
    assert variants == {"candidate", "baseline"}
    random_total = sum(
        sim_gateway.metric("genesis_assignments_total", agent="qa_agent", variant=v, reason="random")
        for v in ("candidate", "baseline")
    )
    assert random_total == 40


def test_forced_variant_where_allowed(sim_gateway: Gateway) -> None:
    """X-Genesis-Variant forces the variant on an agent that allows it, whatever the unit's bucket."""
    tap = HeaderTap()
    client = mistral(sim_gateway, tap)
    for variant, model in (("candidate", "ft:sim-base:qa"), ("baseline", "sim-base")):
        reply = client.chat.complete(
            model="qa_agent", messages=PROMPT, http_headers={"X-Genesis-Variant": variant, "X-Genesis-User": "u"}
        )
        assert tap.last["x-genesis-variant"] == variant
        assert reply.model == model


def test_request_id_is_echoed_when_valid_and_replaced_when_not(sim_gateway: Gateway) -> None:
    """A client's x-request-id comes back unchanged; an unsafe one is replaced by a fresh id."""
    body = {"model": "support_agent", "messages": PROMPT}
    with httpx2.Client(base_url=sim_gateway.url) as http:
        assert (
            http.post("/v1/chat/completions", json=body, headers={"x-request-id": "trace-42"}).headers["x-request-id"]
            == "trace-42"
        )
        replaced = http.post("/v1/chat/completions", json=body, headers={"x-request-id": "bad id\twith spaces"})
        assert replaced.headers["x-request-id"] != "bad id\twith spaces"
        assert len(replaced.headers["x-request-id"]) == 32


def test_metrics_after_calls(sim_gateway: Gateway) -> None:
    """Requests, tokens, cost, duration and (streams only) time to first token are counted per agent/variant/model."""
    tap = HeaderTap()
    client = mistral(sim_gateway, tap)
    unit = {"X-Genesis-User": "metered"}
    variant = expected_variant("metered")
    model = SUPPORT_MODELS[variant]
    labels = {"agent": "support_agent", "variant": variant, "model": model}
    usage_in = usage_out = 0
    for _ in range(2):
        reply = client.chat.complete(model="support_agent", messages=PROMPT, http_headers=unit)
        usage_in += reply.usage.prompt_tokens or 0
        usage_out += reply.usage.completion_tokens or 0
    for _ in range(3):
        with client.chat.stream(model="support_agent", messages=PROMPT, http_headers=unit) as events:
            last = [e.data for e in events][-1]
        assert last.usage is not None
        usage_in += last.usage.prompt_tokens or 0
        usage_out += last.usage.completion_tokens or 0
    gw = sim_gateway
    assert gw.wait_metric("genesis_requests_total", 5, **labels, status_class="2xx") == 5
    assert gw.metric("genesis_request_duration_seconds_count", **labels) == 5
    assert gw.metric("genesis_time_to_first_token_seconds_count", **labels) == 3
    assert gw.metric("genesis_tokens_total", **labels, type="input") == usage_in
    assert gw.metric("genesis_tokens_total", **labels, type="output") == usage_out
    price_in, price_out = PRICES[model]
    expected_cost = (usage_in * price_in + usage_out * price_out) / 1e6
    assert math.isclose(gw.metric("genesis_cost_usd_total", **labels), expected_cost, rel_tol=1e-9)
    assert gw.metric("genesis_upstream_errors_total", upstream="sim", reason="status_503") == 0


def test_metrics_endpoint_exposes_the_injected_registry(sim_gateway: Gateway) -> None:
    """GET /metrics renders the registry the app was built with, in the Prometheus text format."""
    with httpx2.Client(base_url=sim_gateway.url) as http:
        http.post("/v1/chat/completions", json={"model": "support_agent", "messages": PROMPT})
        resp = http.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    assert 'genesis_requests_total{agent="support_agent"' in resp.text


def test_pass_through_model_is_metered_without_an_experiment(sim_gateway: Gateway) -> None:
    """A concrete model the config lists is served as is: x-genesis-model, no agent/variant headers."""
    tap = HeaderTap()
    reply = mistral(sim_gateway, tap).chat.complete(model="sim-base", messages=PROMPT)
    assert reply.model == "sim-base"
    assert tap.last["x-genesis-model"] == "sim-base"
    assert "x-genesis-agent" not in tap.last
    assert "x-genesis-variant" not in tap.last
    labels = {"agent": "none", "variant": "none", "model": "sim-base"}
    assert sim_gateway.metric("genesis_requests_total", **labels, status_class="2xx") == 1


def test_models_list_parses_with_mistralai_and_openai(sim_gateway: Gateway) -> None:
    """GET /v1/models lists the agents and pass-through models as cards both SDKs parse."""
    listed = mistral(sim_gateway).models.list()
    assert listed.data is not None
    ids = [card.id for card in listed.data]  # type: ignore[union-attr]
    assert ids == ["support_agent", "qa_agent", "sim-base"]
    assert all(type(card).__name__ == "BaseModelCard" for card in listed.data)
    assert {m.id for m in openai(sim_gateway).models.list()} == set(ids)


def test_healthz_and_readyz(sim_gateway: Gateway) -> None:
    """/healthz answers ok; /readyz is ok with every upstream open and 503 once a probe fails."""
    with httpx2.Client(base_url=sim_gateway.url) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"config": True, "started": True, "upstream:sim": True}

        async def down() -> bool:
            return False

        sim_gateway.state.probes["redis"] = down
        not_ready = http.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["status"] == "unavailable"
    assert not_ready.json()["checks"]["redis"] is False


async def test_mistralai_async_client(sim_gateway: Gateway) -> None:
    """complete_async works against the gateway too (same wire format)."""
    async with httpx2.AsyncClient() as http:
        client = Mistral(api_key="k", server_url=sim_gateway.url, async_client=http)
        reply = await client.chat.complete_async(model="qa_agent", messages=PROMPT)
    assert reply.model in {"ft:sim-base:qa", "sim-base"}


def test_sampled_exchanges_carry_prompt_answer_and_usage() -> None:
    """With sample_rate 1, every answered request (streamed or not) is offered to the sink with its prompt and answer."""
    config = make_config()
    qa = config.agents["qa_agent"].model_copy(update={"sample_rate": 1.0})
    config = config.model_copy(update={"agents": {**config.agents, "qa_agent": qa}})
    sink = CollectingSink()
    with running_gateway(config, sink=sink) as gw:
        client = mistral(gw)
        unit = {"X-Genesis-User": "sampled"}
        reply = client.chat.complete(model="qa_agent", messages=PROMPT, http_headers=unit)
        with client.chat.stream(model="qa_agent", messages=PROMPT, http_headers=unit) as events:
            list(events)
        client.chat.complete(model="support_agent", messages=PROMPT, http_headers=unit)  # sample_rate 0
        deadline = time.monotonic() + 5
        while len(sink.offered) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(sink.offered) == 2
    for ex in sink.offered:
        assert ex.agent == "qa_agent"
        assert ex.model == reply.model
        assert ex.messages == PROMPT
        assert ex.answer == reply.choices[0].message.content
        assert ex.input_tokens == reply.usage.prompt_tokens
        assert ex.output_tokens == reply.usage.completion_tokens
        assert ex.finish_reason == "stop"
    assert [ex.stream for ex in sink.offered] == [False, True]


def test_a_sink_without_room_samples_nothing_and_the_answers_are_unchanged() -> None:
    """Chosen for sampling while the sink has no room: the request is answered as usual (streamed or not)
    and nothing is offered, so it kept no prompt or answer text for a sample that would be dropped."""
    config = make_config()
    qa = config.agents["qa_agent"].model_copy(update={"sample_rate": 1.0})
    config = config.model_copy(update={"agents": {**config.agents, "qa_agent": qa}})
    sink = CollectingSink(room=False)
    with running_gateway(config, sink=sink) as gw:
        client = mistral(gw)
        unit = {"X-Genesis-User": "sampled"}
        reply = client.chat.complete(model="qa_agent", messages=PROMPT, http_headers=unit)
        with client.chat.stream(model="qa_agent", messages=PROMPT, http_headers=unit) as events:
            streamed = "".join(e.data.choices[0].delta.content or "" for e in events if e.data.choices)  # type: ignore[misc]
        time.sleep(0.1)  # recording runs after the answer: give it the time it would take
    assert reply.choices[0].message.content and streamed == reply.choices[0].message.content
    assert sink.offered == []


def test_simulated_upstream_errors_fall_back_to_the_baseline() -> None:
    """A candidate simulator that always fails (error_rate 1) is replaced by the baseline's upstream."""
    config = make_config()
    failing = config.upstreams["sim"].model_copy(
        update={"models": (), "simulator": config.upstreams["sim"].simulator.model_copy(update={"error_rate": 1.0})}
    )
    qa = config.agents["qa_agent"].model_copy(
        update={"candidate": config.agents["qa_agent"].candidate.model_copy(update={"upstream": "flaky"})}
    )
    config = config.model_copy(
        update={"upstreams": {**config.upstreams, "flaky": failing}, "agents": {**config.agents, "qa_agent": qa}}
    )
    with running_gateway(config) as gw, httpx2.Client(base_url=gw.url) as http:
        resp = http.post(
            "/v1/chat/completions",
            json={"model": "qa_agent", "messages": PROMPT},
            headers={"x-genesis-variant": "candidate"},
        )
        assert resp.status_code == 200
        assert resp.headers["x-genesis-fallback"] == "true"
        assert resp.json()["model"] == "sim-base"
        assert gw.metric("genesis_upstream_errors_total", upstream="flaky", reason="status_503") == 1
        assert gw.metric("genesis_fallbacks_total", agent="qa_agent") == 1


def test_kill_switch_and_overrides_end_to_end() -> None:
    """A disabled agent serves everyone the baseline; an override pins a unit to the candidate at share 0."""
    config = make_config()
    support = config.agents["support_agent"].model_copy(update={"enabled": False})
    qa = config.agents["qa_agent"].model_copy(update={"candidate_share": 0, "overrides": {"vip": "candidate"}})
    config = config.model_copy(update={"agents": {**config.agents, "support_agent": support, "qa_agent": qa}})
    with running_gateway(config) as gw, httpx2.Client(base_url=gw.url) as http:

        def variant(agent: str, unit: str) -> str:
            body = {"model": agent, "messages": PROMPT}
            return str(
                http.post("/v1/chat/completions", json=body, headers={"x-genesis-user": unit}).headers[
                    "x-genesis-variant"
                ]
            )

        assert {variant("support_agent", f"u{i}") for i in range(20)} == {"baseline"}
        assert variant("qa_agent", "vip") == "candidate"
        assert {variant("qa_agent", f"u{i}") for i in range(20)} == {"baseline"}
        assert (
            gw.metric("genesis_assignments_total", agent="support_agent", variant="baseline", reason="disabled") == 20
        )
        assert gw.metric("genesis_assignments_total", agent="qa_agent", variant="candidate", reason="override") == 1
