"""Request-body translation for each kind of upstream.

Clients speak Mistral or OpenAI dialects; each upstream wants its own. Only what must change is
touched, everything else passes through. Functions return a new top-level dict and never mutate
the caller's, since a fallback may send the same request to an upstream of another kind.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.upstream.base import Payload

# OpenAI-only fields the Mistral API rejects with 422 extra_forbidden.
_MISTRAL_REJECTS = ("stream_options", "store", "user", "max_completion_tokens", "service_tier_openai")
_MISTRAL_ONLY = ("safe_prompt", "prompt_mode", "guardrails")


def to_mistral(payload: Payload) -> Payload:
    """Map OpenAI dialect to the Mistral API: ``max_completion_tokens`` -> ``max_tokens``, drop the rest."""
    out = dict(payload)
    if "max_completion_tokens" in out and "max_tokens" not in out:
        out["max_tokens"] = out["max_completion_tokens"]
    if "seed" in out:  # OpenAI's name; Mistral knows only random_seed, which wins when both are given
        seed = out.pop("seed")
        out.setdefault("random_seed", seed)
    for key in _MISTRAL_REJECTS:
        out.pop(key, None)
    messages = out.get("messages")
    if isinstance(messages, list) and any(_has(m, "reasoning_content") for m in messages):
        out["messages"] = [_without(m, ("reasoning_content",)) for m in messages]
    return out


def to_openai(payload: Payload) -> Payload:
    """Map Mistral dialect to an OpenAI-compatible server (vLLM, Ollama, ...).

    ``random_seed`` -> ``seed``; ``tool_choice: "any"`` -> ``"required"``; tool-call ``arguments``
    given as objects become JSON strings; the SDK's ``prefix``/``index`` keys are dropped; streams
    ask for usage on the last chunk.
    """
    out = dict(payload)
    if "random_seed" in out:  # Mistral's name; an explicit seed wins when both are given
        seed = out.pop("random_seed")
        out.setdefault("seed", seed)
    if out.get("tool_choice") == "any":
        out["tool_choice"] = "required"
    for key in _MISTRAL_ONLY:
        out.pop(key, None)
    if out.get("stream") is True and "stream_options" not in out:
        out["stream_options"] = {"include_usage": True}
    messages = out.get("messages")
    if isinstance(messages, list):
        out["messages"] = [_message_to_openai(m) for m in messages]
    return out


def _message_to_openai(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    if "prefix" not in message and "tool_calls" not in message:
        return message
    out = {k: v for k, v in message.items() if k != "prefix"}
    calls = out.get("tool_calls")
    if isinstance(calls, list):
        out["tool_calls"] = [_tool_call_to_openai(c) for c in calls]
    return out


def _tool_call_to_openai(call: Any) -> Any:
    if not isinstance(call, dict):
        return call
    out = {k: v for k, v in call.items() if k != "index"}
    function = out.get("function")
    if isinstance(function, dict) and not isinstance(function.get("arguments", ""), str):
        out["function"] = {**function, "arguments": msgspec.json.encode(function["arguments"]).decode()}
    return out


def _has(message: Any, key: str) -> bool:
    return isinstance(message, dict) and key in message


def _without(message: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(message, dict):
        return message
    return {k: v for k, v in message.items() if k not in keys}
