"""Upstream model servers behind one Protocol: Mistral, OpenAI-compatible, and the built-in simulator."""

from gateway.upstream.base import StreamHandle, Upstream, UpstreamReply
from gateway.upstream.factory import build_upstreams

__all__ = ["StreamHandle", "Upstream", "UpstreamReply", "build_upstreams"]
