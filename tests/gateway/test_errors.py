"""Error answers: the right status, the Mistral error shape, and the SDKs raising their proper exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import openai as openai_sdk
import pytest
from mistralai.client import Mistral, errors

from tests.gateway.helpers import Gateway, make_config, running_gateway

PROMPT = [{"role": "user", "content": "hello"}]
BODY = {"model": "support_agent", "messages": PROMPT}
KEYS = {"SUPPORT_KEY": "support-secret", "PLATFORM_KEY": "platform-secret"}


def assert_mistral_error(resp: httpx2.Response, status: int, type_: str, *, contains: str = "") -> dict[str, Any]:
    """The response has ``status`` and a Mistral-shaped JSON error body with the given type."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert set(body) == {"object", "message", "type", "param", "code"}
    assert body["object"] == "error"
    assert body["type"] == type_
    assert isinstance(body["message"], str)
    assert contains in body["message"]
    assert resp.headers["x-request-id"]
    return body


@pytest.fixture
def http(sim_gateway: Gateway) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sim_gateway.url) as client:
        yield client


@pytest.fixture
def auth_gateway() -> Iterator[Gateway]:
    """A gateway with agent keys: support-bot may call support_agent only, platform may call all."""
    auth = {
        "keys": [
            {"name": "support-bot", "key_env": "SUPPORT_KEY", "agents": ["support_agent"]},
            {"name": "platform", "key_env": "PLATFORM_KEY", "agents": ["*"]},
        ]
    }
    with running_gateway(make_config(auth=auth, max_body_bytes=2048), env=KEYS) as gw:
        yield gw


def test_malformed_json_is_400(http: httpx2.Client, sim_gateway: Gateway) -> None:
    """A body that is not JSON gets 400 invalid_request_error naming the problem, and is metered as 4xx."""
    resp = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    body = assert_mistral_error(resp, 400, "invalid_request_error", contains="not valid JSON")
    assert body["code"] == "invalid_json"
    assert (
        sim_gateway.metric("genesis_requests_total", agent="none", variant="none", model="unknown", status_class="4xx")
        == 1
    )


def test_missing_messages_is_400(http: httpx2.Client) -> None:
    """A body without messages gets 400 naming the field."""
    resp = http.post("/v1/chat/completions", json={"model": "support_agent"})
    assert_mistral_error(resp, 400, "invalid_request_error", contains="messages")


def test_unknown_model_is_404(http: httpx2.Client, sim_gateway: Gateway) -> None:
    """A model that is neither an agent nor a served model gets 404 invalid_model, metered without a new label."""
    resp = http.post("/v1/chat/completions", json={"model": "gpt-17", "messages": PROMPT})
    assert_mistral_error(resp, 404, "invalid_model", contains="gpt-17")
    assert "x-genesis-agent" not in resp.headers
    assert (
        sim_gateway.metric("genesis_requests_total", agent="none", variant="none", model="unknown", status_class="4xx")
        == 1
    )
    assert (
        sim_gateway.registry.get_sample_value(
            "genesis_requests_total", {"agent": "none", "variant": "none", "model": "gpt-17", "status_class": "4xx"}
        )
        is None
    )


def test_sdks_raise_their_not_found_errors_with_the_gateway_message(sim_gateway: Gateway) -> None:
    """mistralai raises SDKError (status 404) and openai NotFoundError, both carrying the gateway's message."""
    client = Mistral(api_key="k", server_url=sim_gateway.url)
    with pytest.raises(errors.SDKError) as info:
        client.chat.complete(model="no_such_agent", messages=PROMPT)
    assert info.value.status_code == 404
    assert "no_such_agent" in info.value.message
    with pytest.raises(errors.SDKError) as streamed:
        client.chat.stream(model="no_such_agent", messages=PROMPT)
    assert streamed.value.status_code == 404
    oa = openai_sdk.OpenAI(base_url=sim_gateway.url + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai_sdk.NotFoundError) as oa_info:
        oa.chat.completions.create(model="no_such_agent", messages=PROMPT)  # type: ignore[arg-type]
    assert "no_such_agent" in oa_info.value.message


def test_forcing_a_variant_where_not_allowed_is_403(http: httpx2.Client) -> None:
    """X-Genesis-Variant on an agent without allow_force_variant gets 403 forbidden."""
    resp = http.post("/v1/chat/completions", json=BODY, headers={"x-genesis-variant": "candidate"})
    body = assert_mistral_error(resp, 403, "forbidden", contains="allow_force_variant")
    assert body["code"] == "force_not_allowed"


def test_bad_variant_header_is_400(http: httpx2.Client) -> None:
    """An X-Genesis-Variant that is neither candidate nor baseline gets 400."""
    resp = http.post("/v1/chat/completions", json={**BODY, "model": "qa_agent"}, headers={"x-genesis-variant": "both"})
    body = assert_mistral_error(resp, 400, "invalid_request_error", contains="'candidate' or 'baseline'")
    assert body["code"] == "invalid_variant"


def test_overlong_unit_id_is_400(http: httpx2.Client) -> None:
    """An X-Genesis-User longer than 256 characters gets 400."""
    resp = http.post("/v1/chat/completions", json=BODY, headers={"x-genesis-user": "u" * 257})
    assert_mistral_error(resp, 400, "invalid_request_error", contains="256")


def test_unknown_path_is_404_in_mistral_shape(http: httpx2.Client) -> None:
    """A path the gateway does not serve gets a Mistral-shaped 404."""
    assert_mistral_error(http.get("/v1/nothing-here"), 404, "not_found")


def test_doubled_v1_prefix_explains_the_server_url_mistake(http: httpx2.Client) -> None:
    """/v1/v1/... (mistralai given server_url ending in /v1) gets a 404 that says what to fix."""
    assert_mistral_error(http.get("/v1/v1/models"), 404, "invalid_model", contains="server_url")


def test_wrong_method_is_405(http: httpx2.Client) -> None:
    """GET on the chat endpoint gets 405 in the Mistral shape."""
    resp = http.get("/v1/chat/completions")
    assert_mistral_error(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["allow"]


def test_framework_errors_echo_the_request_id(http: httpx2.Client) -> None:
    """Errors raised before the proxy (unknown path) still carry the client's x-request-id."""
    resp = http.get("/nowhere", headers={"x-request-id": "trace-7"})
    assert resp.headers["x-request-id"] == "trace-7"


def test_missing_or_invalid_key_is_401(auth_gateway: Gateway) -> None:
    """With keys configured, no key or an unknown one gets 401; the SDKs raise their auth errors."""
    with httpx2.Client(base_url=auth_gateway.url) as http:
        missing = http.post("/v1/chat/completions", json=BODY)
        assert assert_mistral_error(missing, 401, "unauthorized")["code"] == "missing_key"
        wrong = http.post("/v1/chat/completions", json=BODY, headers={"authorization": "Bearer nope"})
        assert assert_mistral_error(wrong, 401, "unauthorized")["code"] == "invalid_key"
    with pytest.raises(errors.SDKError) as info:
        Mistral(api_key="nope", server_url=auth_gateway.url).chat.complete(model="support_agent", messages=PROMPT)
    assert info.value.status_code == 401
    assert "invalid API key" in info.value.message
    oa = openai_sdk.OpenAI(base_url=auth_gateway.url + "/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai_sdk.AuthenticationError) as oa_info:
        oa.chat.completions.create(model="support_agent", messages=PROMPT)  # type: ignore[arg-type]
    assert "invalid API key" in oa_info.value.message


def test_valid_keys_reach_their_agents_only(auth_gateway: Gateway) -> None:
    """A key limited to support_agent calls it, but gets 403 on another agent; a '*' key calls both."""
    support = Mistral(api_key=KEYS["SUPPORT_KEY"], server_url=auth_gateway.url)
    assert support.chat.complete(model="support_agent", messages=PROMPT).choices
    with pytest.raises(errors.SDKError) as info:
        support.chat.complete(model="qa_agent", messages=PROMPT)
    assert info.value.status_code == 403
    assert "may not call agent 'qa_agent'" in info.value.message
    platform = openai_sdk.OpenAI(base_url=auth_gateway.url + "/v1", api_key=KEYS["PLATFORM_KEY"], max_retries=0)
    assert platform.chat.completions.create(model="qa_agent", messages=PROMPT).choices  # type: ignore[arg-type]
    with pytest.raises(openai_sdk.PermissionDeniedError):
        openai_sdk.OpenAI(
            base_url=auth_gateway.url + "/v1", api_key=KEYS["SUPPORT_KEY"], max_retries=0
        ).chat.completions.create(model="qa_agent", messages=PROMPT)  # type: ignore[arg-type]


def test_scoped_keys_may_not_bypass_their_agents(auth_gateway: Gateway) -> None:
    """A key scoped to agents gets 403 on a pass-through model; a '*' key may call it."""
    support = Mistral(api_key=KEYS["SUPPORT_KEY"], server_url=auth_gateway.url)
    with pytest.raises(errors.SDKError) as info:
        support.chat.complete(model="sim-base", messages=PROMPT)
    assert info.value.status_code == 403
    assert "may not call model 'sim-base' directly" in info.value.message
    platform = Mistral(api_key=KEYS["PLATFORM_KEY"], server_url=auth_gateway.url)
    assert platform.chat.complete(model="sim-base", messages=PROMPT).choices


def test_model_list_needs_a_key_and_shows_what_it_may_call(auth_gateway: Gateway) -> None:
    """With keys configured, /v1/models is 401 without a key and lists only the key's agents."""
    with httpx2.Client(base_url=auth_gateway.url) as http:
        assert_mistral_error(http.get("/v1/models"), 401, "unauthorized")
    scoped = Mistral(api_key=KEYS["SUPPORT_KEY"], server_url=auth_gateway.url).models.list()
    assert [card.id for card in scoped.data or []] == ["support_agent"]
    everything = Mistral(api_key=KEYS["PLATFORM_KEY"], server_url=auth_gateway.url).models.list()
    assert {"support_agent", "qa_agent", "sim-base"} <= {card.id for card in everything.data or []}


def test_body_over_max_body_bytes_is_413(auth_gateway: Gateway) -> None:
    """A body larger than max_body_bytes gets 413 request_too_large, before any upstream is called, metered as 4xx."""
    big = {"model": "support_agent", "messages": [{"role": "user", "content": "x" * 4096}]}
    headers = {"authorization": f"Bearer {KEYS['PLATFORM_KEY']}", "x-request-id": "too-big-1"}
    with httpx2.Client(base_url=auth_gateway.url) as http:
        resp = http.post("/v1/chat/completions", json=big, headers=headers)
        assert_mistral_error(resp, 413, "request_too_large", contains="max_body_bytes")
        assert resp.headers["x-request-id"] == "too-big-1"
        refused = {"agent": "none", "variant": "none", "model": "unknown", "status_class": "4xx"}
        assert auth_gateway.metric("genesis_requests_total", **refused) == 1
        small = http.post("/v1/chat/completions", json=BODY, headers=headers)
        assert small.status_code == 200
    with pytest.raises(errors.SDKError) as info:
        Mistral(api_key=KEYS["PLATFORM_KEY"], server_url=auth_gateway.url).chat.complete(
            model="support_agent", messages=big["messages"]
        )
    assert info.value.status_code == 413
