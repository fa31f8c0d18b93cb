"""The built-in simulator: a deterministic, Mistral-shaped model server inside the gateway.

It makes the demo and the offline benchmark work with nothing installed and no key. Answers depend
on the prompt and the agent, and fine-tuned models (ids starting ``ft:``) answer in a visibly
better profile than base models — specific, structured, on topic — so an A/B test has something
real to find. Pace (first-token delay, tokens per second) and an error rate are configurable.
Bodies the real API refuses are refused the same way, 422 and all (``simulated_checks``).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from gateway.errors import UpstreamUnavailable
from gateway.settings import SimulatorConfig, UpstreamKind
from gateway.upstream.base import Payload, UpstreamReply
from gateway.upstream.simulated_checks import rejection
from gateway.upstream.simulated_text import compose_answer
from gateway.upstream.translate import to_mistral

_WORD = re.compile(r"\S+\s*")


class SimulatedUpstream:
    """A model server that lives in this process."""

    def __init__(self, name: str, config: SimulatorConfig):
        self.name = name
        self.kind = UpstreamKind.SIMULATED
        self._config = config
        self._rng = random.Random(config.seed)
        self._open = False

    async def start(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    @property
    def ready(self) -> bool:
        return self._open

    async def complete(self, payload: Payload, *, request_id: str) -> UpstreamReply:
        model, text = self._answer(payload)
        await asyncio.sleep(self._config.first_token_ms / 1000)
        prompt_tokens, completion_tokens = _count_tokens(payload), _tokens(text)
        body = {
            "id": _completion_id(request_id),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "tool_calls": None},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(prompt_tokens, completion_tokens),
        }
        return UpstreamReply(msgspec.json.encode(body))

    @asynccontextmanager
    async def stream(self, payload: Payload, *, request_id: str) -> AsyncIterator[_SimulatedStream]:
        model, text = self._answer(payload)
        yield _SimulatedStream(_completion_id(request_id), model, text, _count_tokens(payload), self._config)

    def _answer(self, payload: Payload) -> tuple[str, str]:
        if not self._open:
            raise UpstreamUnavailable("simulator is not started", reason="not_started", upstream=self.name)
        # Judged as the Mistral API would judge it: after the translation a Mistral upstream applies.
        refused = rejection(to_mistral(payload))
        if refused is not None:
            raise refused
        if self._config.error_rate and self._rng.random() < self._config.error_rate:
            raise UpstreamUnavailable(
                f"upstream {self.name} answered 503 (simulated)", reason="status_503", upstream=self.name
            )
        model = str(payload.get("model", ""))
        prompt = _last_user_text(payload.get("messages"))
        return model, compose_answer(model, prompt, _system_text(payload.get("messages")))


async def _silence(seconds: float, heartbeat_s: float | None) -> AsyncIterator[bytes]:
    """Wait ``seconds``, yielding an empty piece for each ``heartbeat_s`` of it, as ``StreamHandle.chunks`` does."""
    while heartbeat_s is not None and seconds >= heartbeat_s:
        await asyncio.sleep(heartbeat_s)
        seconds -= heartbeat_s
        yield b""
    await asyncio.sleep(seconds)


class _SimulatedStream:
    def __init__(self, cid: str, model: str, text: str, prompt_tokens: int, config: SimulatorConfig):
        self._cid, self._model, self._text = cid, model, text
        self._prompt_tokens = prompt_tokens
        self._config = config

    async def chunks(self, heartbeat_s: float | None = None) -> AsyncIterator[bytes]:
        created = int(time.time())
        async for beat in _silence(self._config.first_token_ms / 1000, heartbeat_s):
            yield beat
        yield self._event(created, {"role": "assistant", "content": ""}, None)
        words = _WORD.findall(self._text)
        pause = 1 / self._config.tokens_per_second
        for i in range(0, len(words), 4):
            yield self._event(created, {"content": "".join(words[i : i + 4])}, None)
            async for beat in _silence(pause * 4, heartbeat_s):
                yield beat
        usage = _usage(self._prompt_tokens, _tokens(self._text))
        yield self._event(created, {"content": ""}, "stop", usage)
        yield b"data: [DONE]\n\n"

    def _event(
        self, created: int, delta: dict[str, Any], finish: str | None, usage: dict[str, int] | None = None
    ) -> bytes:
        chunk: dict[str, Any] = {
            "id": self._cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            chunk["usage"] = usage
        return b"data: " + msgspec.json.encode(chunk) + b"\n\n"


def _completion_id(request_id: str) -> str:
    return "sim-" + hashlib.blake2s(request_id.encode(), digest_size=8).hexdigest()


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _tokens(text: str) -> int:
    # ~4 characters a token, the usual rule of thumb for Mistral's tokenizer on English.
    return max(1, len(text) // 4)


def _count_tokens(payload: Payload) -> int:
    messages = payload.get("messages")
    if not isinstance(messages, list):
        return 1
    return sum(_tokens(_content_text(m.get("content"))) for m in messages if isinstance(m, dict)) + 3


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, list):
        for m in reversed(messages):
            if isinstance(m, dict) and m.get("role") == "user":
                return _content_text(m.get("content"))
    return ""


def _system_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    return " ".join(
        _content_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "system"
    )


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return ""
