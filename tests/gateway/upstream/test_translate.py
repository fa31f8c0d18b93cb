"""Request-body translation: OpenAI dialect to a Mistral upstream, Mistral dialect to an OpenAI-compatible one."""

from __future__ import annotations

import copy
import json
from typing import Any

from gateway.upstream.translate import to_mistral, to_openai


def sdk_tool_conversation() -> dict[str, Any]:
    """A body shaped as the mistralai SDK sends it: assistant ``prefix``, tool-call ``index``, object arguments."""
    return {
        "model": "m",
        "stream": False,
        "random_seed": 7,
        "tool_choice": "any",
        "safe_prompt": True,
        "messages": [
            {"role": "user", "content": "weather in Paris?"},
            {
                "role": "assistant",
                "content": "",
                "prefix": False,
                "tool_calls": [
                    {
                        "id": "abcdefghi",
                        "type": "function",
                        "index": 0,
                        "function": {"name": "weather", "arguments": {"city": "Paris", "days": [1, 2]}},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "abcdefghi", "name": "weather", "content": "sunny"},
        ],
        "custom_field": {"kept": True},
    }


def test_to_mistral_maps_max_completion_tokens_to_max_tokens() -> None:
    """OpenAI's max_completion_tokens becomes max_tokens and is itself dropped."""
    out = to_mistral({"model": "m", "messages": [], "max_completion_tokens": 64})
    assert out["max_tokens"] == 64
    assert "max_completion_tokens" not in out


def test_to_mistral_keeps_an_explicit_max_tokens() -> None:
    """When both are given, max_tokens wins and max_completion_tokens is dropped."""
    out = to_mistral({"model": "m", "messages": [], "max_tokens": 10, "max_completion_tokens": 64})
    assert out["max_tokens"] == 10
    assert "max_completion_tokens" not in out


def test_to_mistral_drops_openai_only_fields() -> None:
    """stream_options, store and user (which Mistral rejects with 422) are removed."""
    body = {
        "model": "m",
        "messages": [],
        "stream": True,
        "stream_options": {"include_usage": True},
        "store": False,
        "user": "u-1",
    }
    out = to_mistral(body)
    assert out == {"model": "m", "messages": [], "stream": True}


def test_to_mistral_maps_seed_to_random_seed() -> None:
    """OpenAI's seed becomes Mistral's random_seed."""
    out = to_mistral({"model": "m", "messages": [], "seed": 3})
    assert out["random_seed"] == 3
    assert "seed" not in out


def test_to_mistral_strips_reasoning_content_from_messages() -> None:
    """reasoning_content inside assistant messages is removed; the rest of each message stays."""
    body = {
        "model": "m",
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "reasoning_content": "thinking..."},
        ],
    }
    out = to_mistral(body)
    assert out["messages"] == [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]


def test_to_mistral_passes_mistral_and_unknown_fields_untouched() -> None:
    """A Mistral-dialect body with unknown fields comes out equal to what went in."""
    body = sdk_tool_conversation()
    assert to_mistral(body) == sdk_tool_conversation()


def test_to_openai_stringifies_tool_call_arguments_and_drops_prefix_and_index() -> None:
    """Tool-call arguments given as objects become JSON strings; prefix and index are removed."""
    out = to_openai(sdk_tool_conversation())
    assistant = out["messages"][1]
    assert "prefix" not in assistant
    call = assistant["tool_calls"][0]
    assert "index" not in call
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "days": [1, 2]}
    assert call["function"]["name"] == "weather"
    assert call["id"] == "abcdefghi"


def test_to_openai_keeps_string_arguments_as_they_are() -> None:
    """Arguments already given as a JSON string are not re-encoded."""
    body = sdk_tool_conversation()
    body["messages"][1]["tool_calls"][0]["function"]["arguments"] = '{"city": "Paris"}'
    out = to_openai(body)
    assert out["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'


def test_to_openai_maps_random_seed_tool_choice_and_mistral_only_fields() -> None:
    """random_seed -> seed, tool_choice any -> required, safe_prompt dropped, unknown fields kept."""
    out = to_openai(sdk_tool_conversation())
    assert out["seed"] == 7
    assert "random_seed" not in out
    assert out["tool_choice"] == "required"
    assert "safe_prompt" not in out
    assert out["custom_field"] == {"kept": True}
    assert out["messages"][0] == {"role": "user", "content": "weather in Paris?"}
    assert out["messages"][2] == sdk_tool_conversation()["messages"][2]


def test_to_openai_keeps_other_tool_choices() -> None:
    """tool_choice values other than 'any' pass as they are."""
    function_choice = {"type": "function", "function": {"name": "weather"}}
    for choice in ("auto", "none", "required", function_choice):
        assert to_openai({"model": "m", "messages": [], "tool_choice": choice})["tool_choice"] == choice


def test_to_openai_asks_for_usage_on_streams() -> None:
    """A streaming request gets stream_options.include_usage, unless the client set stream_options."""
    assert to_openai({"model": "m", "messages": [], "stream": True})["stream_options"] == {"include_usage": True}
    own = {"include_usage": False}
    assert to_openai({"model": "m", "messages": [], "stream": True, "stream_options": own})["stream_options"] == own
    assert "stream_options" not in to_openai({"model": "m", "messages": [], "stream": False})


def test_translations_never_mutate_their_input() -> None:
    """Both functions leave the caller's body (and nested messages) as it was: a fallback may resend it."""
    for translate in (to_mistral, to_openai):
        body = sdk_tool_conversation()
        body.update({"max_completion_tokens": 5, "seed": 1, "stream": True, "user": "u"})
        body["messages"][1]["reasoning_content"] = "hmm"
        before = copy.deepcopy(body)
        translate(body)
        assert body == before


def test_to_mistral_drops_seed_when_random_seed_is_also_given() -> None:
    """Both seeds given: random_seed wins and seed, which Mistral would reject, is dropped."""
    out = to_mistral({"model": "m", "messages": [], "seed": 3, "random_seed": 4})
    assert out["random_seed"] == 4
    assert "seed" not in out


def test_to_openai_drops_random_seed_when_seed_is_also_given() -> None:
    """Both seeds given: seed wins and the Mistral-only random_seed is dropped."""
    out = to_openai({"model": "m", "messages": [], "seed": 3, "random_seed": 4})
    assert out["seed"] == 3
    assert "random_seed" not in out
