"""The OpenAPI schema served at /schema documents the chat route too, though it is a plain ASGI handler."""

from __future__ import annotations

import httpx2

from tests.gateway.helpers import Gateway


def test_chat_route_is_in_the_openapi_schema(sim_gateway: Gateway) -> None:
    """/schema/openapi.json lists POST /v1/chat/completions with its headers, next to /v1/models."""
    schema = httpx2.get(sim_gateway.url + "/schema/openapi.json", timeout=10).json()
    chat = schema["paths"]["/v1/chat/completions"]["post"]
    assert {p["name"] for p in chat["parameters"]} == {"X-Genesis-User", "X-Genesis-Variant"}
    assert "text/event-stream" in chat["responses"]["200"]["content"]
    assert "/v1/models" in schema["paths"]
