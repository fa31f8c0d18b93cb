"""``POST /v1/feedback``: 200 for a recent request id, 404 unknown, 400 bad body, counted per agent and variant."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx2
import pytest
import redis.asyncio as aioredis
from mistralai.client import Mistral

from tests.conftest import REDIS_URL
from tests.sampling.helpers import PROMPTS, Gateway, running_gateway, scoring_config, wait_until


@pytest.fixture
def gw() -> Iterator[Gateway]:
    """An embedded gateway (sampling off: feedback works for every answer, sampled or not)."""
    config = scoring_config()
    config = config.model_copy(
        update={"agents": {n: a.model_copy(update={"sample_rate": 0.0}) for n, a in config.agents.items()}}
    )
    with running_gateway(config) as gateway:
        yield gateway


def _answer(gw: Gateway, variant: str) -> str:
    response = httpx2.post(
        gw.url + "/v1/chat/completions",
        json={"model": "qa_agent", "messages": [{"role": "user", "content": PROMPTS["qa_agent"]}]},
        headers={"x-genesis-variant": variant},
        timeout=10,
    )
    assert response.status_code == 200
    return response.headers["x-request-id"]


def test_feedback_is_attributed_to_the_agent_and_variant(gw: Gateway) -> None:
    """A rating of a recent answer is counted for the agent and variant that gave it."""
    request_id = _answer(gw, "baseline")
    response = httpx2.post(gw.url + "/v1/feedback", json={"request_id": request_id, "rating": "up"}, timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["agent"], body["variant"], body["rating"], body["counted"]) == ("qa_agent", "baseline", "up", True)
    assert gw.metric("genesis_feedback_total", agent="qa_agent", variant="baseline", rating="up") == 1


def test_stars_count_and_a_second_rating_does_not(gw: Gateway) -> None:
    """Stars 1-5 are accepted; rating the same answer again is accepted but not counted again."""
    request_id = _answer(gw, "candidate")
    first = httpx2.post(gw.url + "/v1/feedback", json={"request_id": request_id, "rating": 4, "comment": "ok"})
    again = httpx2.post(gw.url + "/v1/feedback", json={"request_id": request_id, "rating": 1})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["counted"] is False
    assert gw.metric("genesis_feedback_total", agent="qa_agent", variant="candidate", rating="4") == 1
    assert gw.metric("genesis_feedback_total", agent="qa_agent", variant="candidate", rating="1") == 0
    assert gw.state.results is not None
    arms = asyncio.run(gw.state.results.stats("qa_agent"))
    assert arms["candidate"].of("feedback").total == 0.75


def test_feedback_comments_are_redacted(gw: Gateway) -> None:
    """A comment is kept redacted."""
    request_id = _answer(gw, "candidate")
    comment = "wrong again, email me at bob@example.org"
    httpx2.post(gw.url + "/v1/feedback", json={"request_id": request_id, "rating": "down", "comment": comment})
    assert gw.state.results is not None
    comments = asyncio.run(gw.state.results.comments("qa_agent"))
    assert [c.text for c in comments] == ["wrong again, email me at [email]"]


def test_unknown_request_id_is_404_in_the_mistral_shape(gw: Gateway) -> None:
    """An id the gateway never answered (or forgot) is a 404 with the Mistral error body."""
    response = httpx2.post(gw.url + "/v1/feedback", json={"request_id": "never-seen", "rating": "up"})
    assert response.status_code == 404
    body = response.json()
    assert body["object"] == "error" and body["code"] == "unknown_request_id" and "never-seen" in body["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"request_id": "x", "rating": 6},
        {"request_id": "x", "rating": "meh"},
        {"request_id": "x", "rating": True},
        {"rating": "up"},
        {"request_id": "x", "rating": "up", "extra": 1},
        "not an object",
    ],
)
def test_bad_bodies_are_400(gw: Gateway, payload: object) -> None:
    """Ratings outside up/down/1-5, a missing id, unknown fields or a non-object are 400, never 500."""
    response = httpx2.post(gw.url + "/v1/feedback", json=payload)
    assert response.status_code == 400
    assert response.json()["type"] == "invalid_request_error"


def test_non_json_body_is_400(gw: Gateway) -> None:
    """A body that is not JSON is a 400."""
    response = httpx2.post(gw.url + "/v1/feedback", content=b"{oops", headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_feedback_after_a_streamed_answer_through_the_sdk(gw: Gateway) -> None:
    """The request id of a streamed answer (read by the SDK's client) can be rated too."""
    seen: list[str] = []
    client = Mistral(
        api_key="k",
        server_url=gw.url,
        client=httpx2.Client(event_hooks={"response": [lambda r: seen.append(r.headers["x-request-id"])]}),
    )
    with client.chat.stream(model="support_agent", messages=[{"role": "user", "content": "hi"}]) as stream:  # type: ignore[arg-type]
        for _ in stream:
            pass
    response = httpx2.post(gw.url + "/v1/feedback", json={"request_id": seen[-1], "rating": "down"})
    assert response.status_code == 200 and response.json()["agent"] == "support_agent"


def test_feedback_reaches_another_replica_through_redis(redis_prefix: str) -> None:
    """With Redis, a rating sent to a different replica than the one that answered is attributed."""
    config = scoring_config(redis_url=REDIS_URL, prefix=redis_prefix)
    try:
        with running_gateway(config) as first, running_gateway(config) as second:
            request_id = _answer(first, "candidate")
            wait_until(lambda: asyncio.run(_stored(redis_prefix, request_id)), what="the request id in Redis")
            response = httpx2.post(second.url + "/v1/feedback", json={"request_id": request_id, "rating": 5})
            assert response.status_code == 200
            assert response.json()["variant"] == "candidate"
            assert second.metric("genesis_feedback_total", agent="qa_agent", variant="candidate", rating="5") == 1
    finally:
        asyncio.run(_cleanup(redis_prefix))


async def _stored(prefix: str, request_id: str) -> bool:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        return any([await client.hexists(k, request_id) async for k in client.scan_iter(match=f"{prefix}req:*")])
    finally:
        await client.aclose()


async def _cleanup(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
