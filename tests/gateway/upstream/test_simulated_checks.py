"""The simulator refuses what the real Mistral API refuses, with its 422 body, and takes everything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistralai.client import models as mistral_models

from gateway.errors import UpstreamRejected
from gateway.settings import SimulatorConfig
from gateway.upstream.simulated import SimulatedUpstream
from gateway.upstream.simulated_checks import KNOWN_FIELDS, MESSAGE_FIELDS, problems, rejection

USER = {"role": "user", "content": "How do I get a refund?"}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "mistral-small-latest", "messages": [USER], **fields}


def detail(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``detail`` list of the 422 body the checks answer ``payload`` with."""
    refused = rejection(payload)
    assert refused is not None, "expected a 422"
    return list(json.loads(refused.body())["message"]["detail"])


def only(payload: dict[str, Any]) -> dict[str, Any]:
    found = detail(payload)
    assert len(found) == 1, found
    return found[0]


# --- the 422 itself ---------------------------------------------------------------------------


def test_rejection_is_a_422_in_mistrals_envelope() -> None:
    """A refused body is UpstreamRejected(422, application/json) with the envelope the real API sends."""
    refused = rejection(body(foo=1))
    assert isinstance(refused, UpstreamRejected)
    assert refused.status == 422
    assert refused.content_type == "application/json"
    assert json.loads(refused.body()) == {
        "object": "error",
        "message": {
            "detail": [
                {"type": "extra_forbidden", "loc": ["body", "foo"], "msg": "Extra inputs are not permitted", "input": 1}
            ]
        },
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_detail_items_keep_pydantics_key_order_and_carry_ctx_only_for_constraints() -> None:
    """Items read type, loc, msg, input (then ctx, present only where pydantic gives one)."""
    refused = rejection(body(temperature=3.5, foo=1))
    assert refused is not None
    items = json.loads(refused.body())["message"]["detail"]
    assert [list(item) for item in items] == [["type", "loc", "msg", "input", "ctx"], ["type", "loc", "msg", "input"]]


def test_every_problem_is_reported_at_once() -> None:
    """Like the real API, all problems come back in one answer, not the first one only."""
    found = detail(body(temperature="hot", top_p=2, n=0, stream="maybe"))
    assert [tuple(p["loc"]) for p in found] == [
        ("body", "temperature"),
        ("body", "top_p"),
        ("body", "n"),
        ("body", "stream"),
    ]


def test_a_valid_body_has_no_rejection() -> None:
    """The minimal body the mistralai SDK sends passes."""
    assert rejection({"model": "m", "messages": [{"content": "Hello there", "role": "user"}], "stream": False}) is None


# --- messages -----------------------------------------------------------------------------------


def test_unknown_role_is_union_tag_invalid() -> None:
    """A message with role 'wizard' matches none of system/user/assistant/tool."""
    problem = only(body(messages=[{"role": "wizard", "content": "abracadabra"}]))
    assert problem["type"] == "union_tag_invalid"
    assert problem["loc"] == ["body", "messages", 0]
    assert problem["msg"] == (
        "Input tag 'wizard' found using 'role' does not match any of the expected tags: "
        "'system', 'user', 'assistant', 'tool'"
    )
    assert problem["ctx"]["tag"] == "wizard"


def test_message_without_role_is_union_tag_not_found() -> None:
    """A message with no role cannot be told apart."""
    problem = only(body(messages=[{"content": "hi"}]))
    assert (problem["type"], problem["loc"]) == ("union_tag_not_found", ["body", "messages", 0])


def test_message_that_is_not_an_object() -> None:
    """A bare string in messages is model_attributes_type at its index."""
    problem = only(body(messages=[USER, "hi"]))
    assert (problem["type"], problem["loc"]) == ("model_attributes_type", ["body", "messages", 1])


def test_missing_messages() -> None:
    """No messages: 'Field required', with the whole body as input."""
    payload = {"model": "m"}
    problem = only(payload)
    assert problem == {"type": "missing", "loc": ["body", "messages"], "msg": "Field required", "input": payload}


def test_missing_model() -> None:
    """No model: 'Field required'."""
    problem = only({"messages": [USER]})
    assert (problem["type"], problem["loc"]) == ("missing", ["body", "model"])


def test_model_that_is_not_a_string() -> None:
    """model 5 is string_type."""
    assert only(body(model=5))["type"] == "string_type"


def test_empty_messages_is_too_short() -> None:
    """An empty list of messages is refused."""
    problem = only(body(messages=[]))
    assert (problem["type"], problem["loc"]) == ("too_short", ["body", "messages"])


@pytest.mark.parametrize("messages", ["hi", {"role": "user", "content": "hi"}, None])
def test_messages_that_are_not_a_list(messages: Any) -> None:
    """messages as a string, an object or null is list_type."""
    problem = only(body(messages=messages))
    assert (problem["type"], problem["loc"], problem["input"]) == ("list_type", ["body", "messages"], messages)


@pytest.mark.parametrize("role", ["system", "user", "tool"])
def test_message_without_content(role: str) -> None:
    """System, user and tool messages require content; the loc names the role."""
    problem = only(body(messages=[{"role": role}, USER]))
    assert (problem["type"], problem["loc"]) == ("missing", ["body", "messages", 0, role, "content"])


def test_system_content_must_not_be_null() -> None:
    """System content is a string or text chunks, never null: each union member reports its failure."""
    found = detail(body(messages=[{"role": "system", "content": None}, USER]))
    assert [(p["type"], p["loc"][-1]) for p in found] == [("string_type", "str"), ("list_type", "list[TextChunk]")]


def test_content_that_is_neither_text_nor_chunks() -> None:
    """User content 5 is neither a string nor a list."""
    found = detail(body(messages=[{"role": "user", "content": 5}]))
    assert {p["type"] for p in found} == {"string_type", "list_type"}
    assert all(p["loc"][:5] == ["body", "messages", 0, "user", "content"] for p in found)


def test_unknown_message_key_is_extra_forbidden() -> None:
    """A key a message does not have (OpenAI's reasoning_content, name on a user) is extra_forbidden under the role."""
    found = detail(
        body(
            messages=[
                {"role": "user", "content": "hi", "name": "ann"},
                {"role": "assistant", "content": "hello", "reasoning_content": "thinking"},
            ]
        )
    )
    assert [(p["type"], p["loc"]) for p in found] == [
        ("extra_forbidden", ["body", "messages", 0, "user", "name"]),
        ("extra_forbidden", ["body", "messages", 1, "assistant", "reasoning_content"]),
    ]


def test_assistant_prefix_must_be_a_boolean() -> None:
    """prefix 'sometimes' is bool_parsing."""
    problem = only(body(messages=[USER, {"role": "assistant", "content": "Sure", "prefix": "sometimes"}]))
    assert (problem["type"], problem["loc"][-1]) == ("bool_parsing", "prefix")


# --- sampling parameters ------------------------------------------------------------------------


def test_temperature_that_is_not_a_number() -> None:
    """temperature 'hot' is float_parsing."""
    assert only(body(temperature="hot")) == {
        "type": "float_parsing",
        "loc": ["body", "temperature"],
        "msg": "Input should be a valid number, unable to parse string as a number",
        "input": "hot",
    }


def test_temperature_above_1_5() -> None:
    """temperature 3.5 is above the API's maximum of 1.5."""
    assert only(body(temperature=3.5)) == {
        "type": "less_than_equal",
        "loc": ["body", "temperature"],
        "msg": "Input should be less than or equal to 1.5",
        "input": 3.5,
        "ctx": {"le": 1.5},
    }


@pytest.mark.parametrize(("value", "kind"), [(-0.1, "greater_than_equal"), ([0.5], "float_type")])
def test_temperature_below_zero_or_of_the_wrong_type(value: Any, kind: str) -> None:
    """temperature -0.1 is below 0; a list is no number."""
    assert only(body(temperature=value))["type"] == kind


@pytest.mark.parametrize(("value", "kind"), [(1.2, "less_than_equal"), (-0.5, "greater_than_equal")])
def test_top_p_outside_0_1(value: float, kind: str) -> None:
    """top_p must lie in [0, 1]."""
    problem = only(body(top_p=value))
    assert (problem["type"], problem["loc"]) == (kind, ["body", "top_p"])


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (-1, "greater_than_equal"),
        (2.5, "int_from_float"),
        ("ten", "int_parsing"),
        ({}, "int_type"),
    ],
)
def test_max_tokens_negative_or_not_an_integer(value: Any, kind: str) -> None:
    """max_tokens is an integer ≥ 0."""
    problem = only(body(max_tokens=value))
    assert (problem["type"], problem["loc"], problem["input"]) == (kind, ["body", "max_tokens"], value)


@pytest.mark.parametrize(
    ("value", "kind"), [(0, "greater_than_equal"), (-2, "greater_than_equal"), (1.5, "int_from_float")]
)
def test_n_not_a_positive_integer(value: Any, kind: str) -> None:
    """n is an integer ≥ 1."""
    problem = only(body(n=value))
    assert (problem["type"], problem["loc"]) == (kind, ["body", "n"])


def test_random_seed_below_zero() -> None:
    """random_seed is an integer ≥ 0."""
    assert only(body(random_seed=-3))["ctx"] == {"ge": 0}


@pytest.mark.parametrize("field", ["presence_penalty", "frequency_penalty"])
def test_penalties_outside_minus_2_2(field: str) -> None:
    """presence and frequency penalties lie in [-2, 2]."""
    assert only(body(**{field: 2.5}))["type"] == "less_than_equal"
    assert only(body(**{field: -3}))["type"] == "greater_than_equal"


@pytest.mark.parametrize(("value", "kind"), [("maybe", "bool_parsing"), (2, "bool_parsing"), (None, "bool_type")])
def test_stream_not_a_boolean(value: Any, kind: str) -> None:
    """stream must be a boolean (null included: it is not nullable)."""
    problem = only(body(stream=value))
    assert (problem["type"], problem["loc"]) == (kind, ["body", "stream"])


@pytest.mark.parametrize("field", ["safe_prompt", "parallel_tool_calls"])
def test_other_booleans(field: str) -> None:
    """safe_prompt and parallel_tool_calls must be booleans."""
    assert only(body(**{field: "perhaps"}))["type"] == "bool_parsing"


def test_stop_that_is_neither_a_string_nor_a_list() -> None:
    """stop 5 fails both members of str | list[str]."""
    assert [p["loc"] for p in detail(body(stop=5))] == [["body", "stop", "str"], ["body", "stop", "list[str]"]]


def test_stop_list_with_a_non_string() -> None:
    """A stop list holding a number points at the item."""
    found = detail(body(stop=["END", 5]))
    assert found[-1]["loc"] == ["body", "stop", "list[str]", 1]


# --- structured fields --------------------------------------------------------------------------


def test_unknown_response_format_type() -> None:
    """response_format type 'xml' is not text/json_object/json_schema."""
    assert only(body(response_format={"type": "xml"})) == {
        "type": "literal_error",
        "loc": ["body", "response_format", "type"],
        "msg": "Input should be 'text', 'json_object' or 'json_schema'",
        "input": "xml",
        "ctx": {"expected": "'text', 'json_object' or 'json_schema'"},
    }


def test_response_format_that_is_not_an_object() -> None:
    """response_format 'json' is model_type."""
    assert only(body(response_format="json"))["type"] == "model_type"


def test_unknown_tool_choice() -> None:
    """tool_choice 'sometimes' is neither a ToolChoice object nor one of auto/none/any/required."""
    found = detail(body(tool_choice="sometimes"))
    assert [p["type"] for p in found] == ["model_type", "enum"]
    assert found[1]["msg"] == "Input should be 'auto', 'none', 'any' or 'required'"


def test_tool_choice_object_without_function() -> None:
    """A tool_choice object must name its function."""
    problem = only(body(tool_choice={"type": "function"}))
    assert (problem["type"], problem["loc"][-1]) == ("missing", "function")


def test_prediction_of_another_type() -> None:
    """prediction type must be 'content'."""
    assert only(body(prediction={"type": "diff", "content": "x"}))["type"] == "literal_error"


def test_tools_that_are_not_a_list() -> None:
    """tools must be a list (or null)."""
    assert only(body(tools={"type": "function"}))["type"] == "list_type"


@pytest.mark.parametrize("field", ["user", "stream_options", "max_completion_tokens", "logit_bias", "foo"])
def test_unknown_body_fields_are_extra_forbidden(field: str) -> None:
    """A body field ChatCompletionRequest does not have is extra_forbidden, as the real API answers."""
    problem = only(body(**{field: "x"}))
    assert (problem["type"], problem["loc"]) == ("extra_forbidden", ["body", field])


# --- valid bodies pass --------------------------------------------------------------------------


def test_every_optional_field_the_sdks_send_passes() -> None:
    """A body using every optional field, with a whole tool-calling conversation, is accepted."""
    payload = {
        "model": "mistral-large-latest",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "abc123def",
                        "type": "function",
                        "function": {"name": "weather", "arguments": {"city": "Paris"}},
                        "index": 0,
                    }
                ],
                "prefix": False,
            },
            {"role": "tool", "content": "18°C", "tool_call_id": "abc123def", "name": "weather"},
            {"role": "assistant", "content": "It is", "prefix": True},
        ],
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 256,
        "stream": True,
        "stop": ["\n\n", "END"],
        "random_seed": 42,
        "metadata": {"user_id": "u-1"},
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "weather"}},
        "presence_penalty": 0.5,
        "frequency_penalty": -0.5,
        "min_tokens": 1,
        "n": 2,
        "prediction": {"type": "content", "content": "It is"},
        "parallel_tool_calls": False,
        "reasoning_effort": "high",
        "prompt_mode": "reasoning",
        "safe_prompt": True,
    }
    assert problems(payload) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"stop": "END"},
        {"tool_choice": "any"},
        {"tool_choice": "required"},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
        {"response_format": {"type": "text"}},
        {"max_tokens": 0},
        {"temperature": 0},
        {"temperature": 1.5},
        {"top_p": 1},
        {"n": 1},
        {"random_seed": 0},
    ],
)
def test_optional_fields_at_their_edges_pass(fields: dict[str, Any]) -> None:
    """stop as a string, the tool_choice enums, every response format, and the bounds themselves are accepted."""
    assert problems(body(**fields)) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"temperature": None, "top_p": None, "max_tokens": None, "n": None, "random_seed": None, "stop": None},
        {"tools": None, "presence_penalty": None, "frequency_penalty": None},
    ],
)
def test_null_where_the_schema_allows_it(fields: dict[str, Any]) -> None:
    """Nullable fields sent as null pass."""
    assert problems(body(**fields)) == []


@pytest.mark.parametrize(
    "fields", [{"temperature": "0.5"}, {"max_tokens": 20.0}, {"max_tokens": "20"}, {"stream": "true"}, {"n": True}]
)
def test_values_pydantic_coerces_pass(fields: dict[str, Any]) -> None:
    """Lax values the real API's pydantic accepts ("0.5", 20.0 for an integer, "true") are not refused."""
    assert problems(body(**fields)) == []


def test_user_and_tool_content_may_be_null() -> None:
    """User and tool content are nullable; assistant content may be left out."""
    conversation = [{"role": "user", "content": None}, {"role": "assistant"}, {"role": "tool", "content": None}]
    assert problems(body(messages=conversation)) == []


def test_known_fields_are_those_of_the_mistralai_sdk() -> None:
    """The accepted body fields and message keys are exactly those of mistralai's ChatCompletionRequest and messages."""
    assert set(mistral_models.ChatCompletionRequest.model_fields) == KNOWN_FIELDS
    sdk_messages = {
        "system": mistral_models.SystemMessage,
        "user": mistral_models.UserMessage,
        "assistant": mistral_models.AssistantMessage,
        "tool": mistral_models.ToolMessage,
    }
    for role, model in sdk_messages.items():
        assert {f.alias or name for name, f in model.model_fields.items()} == MESSAGE_FIELDS[role], role


# --- the simulator ------------------------------------------------------------------------------

FAST = SimulatorConfig(first_token_ms=0, tokens_per_second=100_000)


async def started() -> SimulatedUpstream:
    upstream = SimulatedUpstream("sim", FAST)
    await upstream.start()
    return upstream


async def test_simulator_complete_refuses_with_the_422() -> None:
    """complete raises UpstreamRejected(422) carrying the detail."""
    sim = await started()
    with pytest.raises(UpstreamRejected) as info:
        await sim.complete(body(temperature=3.5), request_id="r")
    assert info.value.status == 422
    assert json.loads(info.value.body())["message"]["detail"][0]["loc"] == ["body", "temperature"]


async def test_simulator_stream_refuses_before_any_byte() -> None:
    """stream raises on opening, so the client gets the 422 instead of a 200 stream."""
    sim = await started()
    with pytest.raises(UpstreamRejected) as info:
        async with sim.stream(body(stream=True, messages=[{"role": "wizard", "content": "x"}]), request_id="r"):
            pytest.fail("the stream opened")
    assert info.value.status == 422


async def test_simulator_judges_the_body_a_mistral_upstream_would_receive() -> None:
    """OpenAI-only fields the gateway strips for Mistral pass; max_completion_tokens is judged as max_tokens."""
    sim = await started()
    openai_extras = body(
        user="u-1",
        stream_options={"include_usage": True},
        seed=7,
        messages=[USER, {"role": "assistant", "content": "Hi", "reasoning_content": "..."}, USER],
    )
    reply = await sim.complete(openai_extras, request_id="r")
    assert json.loads(reply.body)["object"] == "chat.completion"
    with pytest.raises(UpstreamRejected) as info:
        await sim.complete(body(max_completion_tokens=-1), request_id="r")
    assert json.loads(info.value.body())["message"]["detail"][0]["loc"] == ["body", "max_tokens"]
