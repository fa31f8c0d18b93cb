"""The chat route's fast way in (``ChatFastPath``): answers exactly as through Litestar's router.

A POST to ``/v1/chat/completions`` or ``/chat/completions`` skips Litestar's router; the same path
with a trailing slash still goes through it (Litestar matches it to the same route). Every answer,
refusals included, must be the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.gateway.helpers import Gateway, make_config, running_gateway

KEYS = {"SUPPORT_KEY": "support-secret"}
AUTH = {"keys": [{"name": "support-bot", "key_env": "SUPPORT_KEY", "agents": ["support_agent"]}]}
GOOD_KEY = {"authorization": "Bearer support-secret"}
PROMPT = [{"role": "user", "content": "Where is order 48213?"}]

CASES: dict[str, dict[str, Any]] = {
    "answered": {"json": {"model": "support_agent", "messages": PROMPT}, "headers": GOOD_KEY},
    "streamed": {"json": {"model": "support_agent", "messages": PROMPT, "stream": True}, "headers": GOOD_KEY},
    "not JSON": {"content": b"{not json", "headers": {**GOOD_KEY, "content-type": "application/json"}},
    "no messages": {"json": {"model": "support_agent"}, "headers": GOOD_KEY},
    "unknown model": {"json": {"model": "no-such-agent", "messages": PROMPT}, "headers": GOOD_KEY},
    "no key": {"json": {"model": "support_agent", "messages": PROMPT}, "headers": {}},
    "agent not allowed": {"json": {"model": "qa_agent", "messages": PROMPT}, "headers": GOOD_KEY},
    "too large": {"json": {"model": "support_agent", "messages": PROMPT * 200}, "headers": GOOD_KEY},
}
VOLATILE = {"date", "content-length"}


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with running_gateway(make_config(auth=AUTH, max_body_bytes=2048), env=KEYS) as gw:
        yield gw


def _answer(client: httpx2.Client, path: str, case: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    headers = {"x-genesis-user": "user-48213", "x-request-id": "fast-path-test", **case["headers"]}
    resp = client.post(path, json=case.get("json"), content=case.get("content"), headers=headers)
    kept = {k: v for k, v in resp.headers.items() if k not in VOLATILE}
    if resp.headers["content-type"].startswith("application/json"):
        body = resp.json()
        return resp.status_code, kept, body if "choices" not in body else sorted(body)
    return resp.status_code, kept, [line.split(":", 1)[0] for line in resp.text.splitlines()]


@pytest.mark.parametrize("name", CASES)
def test_a_chat_post_is_answered_as_litestars_route_answers_it(gateway: Gateway, name: str) -> None:
    """Status, headers (but the date and length; the client's request id echoed) and body (its shape, for
    an answer) are the same on the fast way in and through Litestar's router."""
    with httpx2.Client(base_url=gateway.url) as client:
        fast = _answer(client, "/v1/chat/completions", CASES[name])
        routed = _answer(client, "/v1/chat/completions/", CASES[name])
    assert fast == routed
    if name in ("answered", "streamed"):
        assert fast[0] == 200 and fast[1]["x-genesis-agent"] == "support_agent"
    else:
        assert 400 <= fast[0] < 500 and fast[2]["object"] == "error"
    assert fast[1]["x-request-id"] == "fast-path-test"


def test_both_ways_echo_the_request_id_of_a_refusal(gateway: Gateway) -> None:
    """A refused request gets the client's x-request-id back on both ways in."""
    with httpx2.Client(base_url=gateway.url) as client:
        for path in ("/v1/chat/completions", "/v1/chat/completions/", "/chat/completions"):
            resp = client.post(path, content=b"{", headers={**GOOD_KEY, "x-request-id": "abc-123"})
            assert resp.status_code == 400
            assert resp.headers["x-request-id"] == "abc-123"


def test_other_methods_on_the_chat_path_still_get_405_with_allow(gateway: Gateway) -> None:
    """Only POSTs take the fast way; a GET goes to Litestar, which answers 405 naming POST."""
    with httpx2.Client(base_url=gateway.url) as client:
        resp = client.get("/v1/chat/completions", headers=GOOD_KEY)
    assert resp.status_code == 405
    assert resp.headers["allow"] == "POST"
