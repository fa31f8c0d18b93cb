"""The benchmark through a running gateway, with the official mistralai SDK exactly as an agent calls it.

Each variant is forced with the ``X-Genesis-Variant`` header, which the agent's config must allow
(``allow_force_variant``); a 403 stops the run with that advice. A model id named with
``--models`` is sent as the ``model`` and passed through by the gateway. This module is the only
one that sees the SDK's (and its HTTP client's) exceptions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import httpx2
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError, ResponseValidationError

from gateway.bench.callers import wire_messages
from gateway.bench.errors import BenchError, CallFailed, ForceRefused
from gateway.bench.model import VARIANT_TARGETS, Answer
from gateway.wire import content_text
from scoring.types import Message

FORCE_HEADER = "X-Genesis-Variant"
_TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class GatewayCaller:
    """Calls agents (forcing each variant) and pass-through models on a running gateway."""

    def __init__(self, base_url: str, *, api_key: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        # The SDK's own retries stay off: the runner retries, with backoff, and counts attempts.
        self._http = httpx2.AsyncClient(follow_redirects=True)  # the SDK's own default client, closed by us
        self._client = Mistral(
            api_key=api_key, server_url=self.base_url, async_client=self._http, timeout_ms=int(timeout_s * 1000)
        )

    async def start(self, agents: Sequence[str], targets: Sequence[str]) -> None:
        try:
            listing = await self._client.models.list_async()
        except (httpx2.TransportError, NoResponseError) as exc:
            raise BenchError(f"cannot reach the gateway at {self.base_url}: {_describe(exc)}") from exc
        except MistralError as exc:
            raise BenchError(f"the gateway at {self.base_url} answered {exc.status_code} to GET /v1/models") from exc
        served = {str(getattr(card, "id", "")) for card in listing.data or []}
        names = set(agents) | {t for t in targets if t not in VARIANT_TARGETS}
        missing = sorted(names - served)
        if missing:
            raise BenchError(
                f"the gateway at {self.base_url} does not serve {', '.join(missing)} (GET /v1/models lists what it does)"
            )

    async def close(self) -> None:
        await self._http.aclose()

    def identity(self, agent: str, target: str) -> str:
        if target in VARIANT_TARGETS:
            return f"gateway {self.base_url} {agent}/{target}"
        return f"gateway {self.base_url} {target}"

    async def call(self, agent: str, target: str, messages: Sequence[Message]) -> Answer:
        forced = target in VARIANT_TARGETS
        model = agent if forced else target
        headers = {FORCE_HEADER: target} if forced else {}
        started = time.perf_counter()
        try:
            reply = await self._client.chat.complete_async(
                model=model,
                messages=_sdk_messages(messages),
                http_headers=headers,
            )
        except MistralError as exc:
            raise _translate_status(exc, agent=agent, forced=forced) from exc
        except (httpx2.TransportError, NoResponseError) as exc:
            raise CallFailed(f"gateway call failed: {_describe(exc)}", transient=True) from exc
        latency = time.perf_counter() - started
        if not reply.choices or reply.choices[0].message is None:
            raise CallFailed(f"the gateway sent an answer without a message for {model}", transient=True)
        choice = reply.choices[0]
        content: Any = choice.message.content if choice.message is not None else None
        return Answer(
            text=content_text(_plain(content)),
            model=reply.model,
            finish_reason=str(choice.finish_reason) if choice.finish_reason is not None else None,
            input_tokens=reply.usage.prompt_tokens or 0,
            output_tokens=reply.usage.completion_tokens or 0,
            latency_s=round(latency, 4),
        )


def _translate_status(exc: MistralError, *, agent: str, forced: bool) -> BenchError | CallFailed:
    status = exc.status_code
    detail = _error_message(exc)
    if status == 403 and forced:
        return ForceRefused(
            f"the gateway refused to force a variant of {agent!r} (403: {detail}); "
            f"set allow_force_variant: true on {agent} in the gateway's config to benchmark through it"
        )
    if status in (401, 403):
        return BenchError(f"the gateway answered {status}: {detail} (pass an agent key with --api-key)")
    if isinstance(exc, ResponseValidationError):
        return CallFailed(f"the gateway's answer did not parse: {detail}", transient=False)
    return CallFailed(f"the gateway answered {status}: {detail}", transient=status in _TRANSIENT_STATUSES)


def _error_message(exc: MistralError) -> str:
    body = exc.body or ""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:300] or exc.message[:300]
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        return str(parsed["message"])
    return body[:300]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _plain(content: Any) -> Any:
    """SDK content (a string or chunk models) as plain JSON-like values for ``content_text``."""
    if isinstance(content, list):
        return [c.model_dump() if hasattr(c, "model_dump") else c for c in content]
    return content


def _sdk_messages(messages: Sequence[Message]) -> Any:
    # The SDK accepts plain dicts (its TypedDicts); typed as Any because its union is per role.
    return wire_messages(messages)
