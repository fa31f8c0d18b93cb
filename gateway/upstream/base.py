"""The seam every upstream implements, and the shapes that cross it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.settings import UpstreamKind

Payload = dict[str, Any]
"""A chat request body in the Mistral wire format, already addressed to a concrete model.

A plain JSON object on purpose: unknown fields must reach the upstream untouched, and the hot
path decodes and encodes it exactly once.
"""


@dataclass(frozen=True, slots=True)
class UpstreamReply:
    """A complete (non-streaming) 200 answer: the body exactly as the upstream sent it."""

    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class StreamHandle(Protocol):
    """An open streaming answer whose status was 200: its raw SSE bytes, as they arrive."""

    def chunks(self, heartbeat_s: float | None = None) -> AsyncIterator[bytes]:
        """The body in the pieces the upstream sent; raises ``UpstreamError`` if it breaks off.

        With ``heartbeat_s``, an empty piece marks each gap of that long in which nothing arrived,
        so that the relay can keep its client's connection alive while the model is silent.
        """
        ...


class Upstream(Protocol):
    """One model server. Failures surface as ``gateway.errors`` exceptions, never client exceptions.

    * ``UpstreamError`` and subclasses: the server failed (after this upstream's own retries).
    * ``UpstreamRejected``: the server refused the request (a 4xx); its body is passed to the client.
    """

    name: str
    kind: UpstreamKind

    async def complete(self, payload: Payload, *, request_id: str) -> UpstreamReply:
        """Send a non-streaming request and return the whole answer."""
        ...

    def stream(self, payload: Payload, *, request_id: str) -> AbstractAsyncContextManager[StreamHandle]:
        """Open a streaming request; leaving the context closes the connection, cancelling generation."""
        ...

    async def start(self) -> None:
        """Open the connection pool."""
        ...

    async def close(self) -> None:
        """Close the connection pool."""
        ...

    @property
    def ready(self) -> bool:
        """Whether the pool is open."""
        ...
