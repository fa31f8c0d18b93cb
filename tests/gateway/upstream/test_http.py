"""HttpUpstream over the gateway's client: what it sends, what it retries, how the client's errors become the gateway's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from gateway.errors import UpstreamError, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from gateway.settings import UpstreamConfig, UpstreamKind
from gateway.upstream.http import HttpUpstream
from tests.gateway.upstream.scripted import (
    CHUNKED_HEAD,
    Peer,
    Script,
    ScriptedServer,
    answer,
    chunk,
    keep_answering,
    scripted,
)

PAYLOAD = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 5}
COMPLETION = json.dumps({"choices": [{"message": {"content": "hello"}, "finish_reason": "stop"}]}).encode()


@asynccontextmanager
async def upstream_on(script: Script, **config: object) -> AsyncIterator[tuple[HttpUpstream, ScriptedServer]]:
    async with scripted(script) as server:
        settings = UpstreamConfig.model_validate(
            {"kind": UpstreamKind.MISTRAL, "base_url": server.url, "timeout_s": 2, "retries": 1, **config}
        )
        upstream = HttpUpstream("up", settings, api_key="sk-test")
        await upstream.start()
        try:
            yield upstream, server
        finally:
            await upstream.close()


def _json(body: bytes) -> bytes:
    return answer(body, headers=("content-type: application/json",))


async def test_a_request_carries_the_key_the_request_id_and_the_mistral_dialect() -> None:
    """The body is translated for Mistral (max_completion_tokens -> max_tokens) and sent with the key and the id."""
    async with upstream_on(keep_answering(lambda _peer, _req: _json(COMPLETION))) as (up, server):
        reply = await up.complete(dict(PAYLOAD), request_id="req-1")
    assert reply.body == COMPLETION
    assert reply.content_type == "application/json"
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1")
    assert b"authorization: Bearer sk-test" in head
    assert b"x-request-id: req-1" in head
    assert json.loads(body)["max_tokens"] == 5
    assert "max_completion_tokens" not in json.loads(body)


async def test_a_502_is_retried_and_the_second_answer_served() -> None:
    """One retry on 502/503/504: the client never sees the first failure."""
    replies = iter([answer(b"bad gateway", status="502 Bad Gateway"), _json(COMPLETION)])
    async with upstream_on(keep_answering(lambda _peer, _req: next(replies))) as (up, server):
        reply = await up.complete(dict(PAYLOAD), request_id="r")
    assert reply.body == COMPLETION
    assert len(server.requests) == 2


async def test_a_4xx_is_passed_on_unretried_with_its_retry_after() -> None:
    """A 429 is the upstream's answer to the client: its body, status and retry-after, one attempt only."""
    limited = answer(b'{"message":"slow down"}', status="429 Too Many Requests", headers=("retry-after: 7",))
    async with upstream_on(keep_answering(lambda _peer, _req: limited)) as (up, server):
        with pytest.raises(UpstreamRejected) as info:
            await up.complete(dict(PAYLOAD), request_id="r")
    assert (info.value.status, info.value.body()) == (429, b'{"message":"slow down"}')
    assert info.value.headers == {"retry-after": "7"}
    assert len(server.requests) == 1


async def test_retries_exhausted_on_503_is_unavailable() -> None:
    """503 on every attempt: UpstreamUnavailable with reason status_503 after retries + 1 tries."""
    busy = answer(b"busy", status="503 Service Unavailable")
    async with upstream_on(keep_answering(lambda _peer, _req: busy), retries=2) as (up, server):
        with pytest.raises(UpstreamUnavailable) as info:
            await up.complete(dict(PAYLOAD), request_id="r")
    assert info.value.reason == "status_503"
    assert len(server.requests) == 3


async def test_a_silent_upstream_is_a_timeout_not_retried() -> None:
    """No answer within timeout_s: UpstreamTimeout at once, the request not sent twice."""

    async def silent(peer: Peer) -> None:
        await peer.request()
        await peer.closed_by_client(timeout_s=5)

    async with upstream_on(silent, timeout_s=0.2) as (up, server):
        with pytest.raises(UpstreamTimeout):
            await up.complete(dict(PAYLOAD), request_id="r")
    assert len(server.requests) == 1


async def test_garbage_and_a_cut_answer_are_protocol_errors() -> None:
    """Bytes that are not HTTP, or an answer cut before its end, fail as reason 'protocol' (502), not as a timeout."""

    async def garbage(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")

    async def cut(peer: Peer) -> None:
        await peer.request()
        await peer.send(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"choices"')

    for script in (garbage, cut):
        async with upstream_on(script, retries=0) as (up, _server):
            with pytest.raises(UpstreamError) as info:
                await up.complete(dict(PAYLOAD), request_id="r")
        assert info.value.reason == "protocol"


async def test_a_stream_broken_mid_way_is_a_mid_stream_error_after_its_pieces() -> None:
    """The pieces that arrived are relayed, then the break surfaces as reason 'mid_stream'."""

    async def breaks(peer: Peer) -> None:
        await peer.request()
        await peer.send(CHUNKED_HEAD, chunk(b"data: 1\n\n"), pause_s=0.02)

    async with upstream_on(breaks) as (up, _server):
        got = []
        with pytest.raises(UpstreamError) as info:
            async with up.stream(dict(PAYLOAD, stream=True), request_id="r") as handle:
                async for piece in handle.chunks():
                    got.append(piece)
    assert got == [b"data: 1\n\n"]
    assert info.value.reason == "mid_stream"


async def test_a_stream_left_early_closes_its_connection_and_a_finished_one_is_reused() -> None:
    """Leaving a stream before its end drops the connection (generation stops); a whole one is kept for the next."""
    whole = CHUNKED_HEAD + chunk(b"data: 1\n\n") + chunk(b"data: [DONE]\n\n") + chunk(b"")
    async with upstream_on(keep_answering(lambda _peer, _req: whole)) as (up, server):
        async with up.stream(dict(PAYLOAD, stream=True), request_id="a") as handle:
            assert b"".join([p async for p in handle.chunks()]) == b"data: 1\n\ndata: [DONE]\n\n"
        async with up.stream(dict(PAYLOAD, stream=True), request_id="b") as handle:
            async for _ in handle.chunks():
                break
        async with up.stream(dict(PAYLOAD, stream=True), request_id="c") as handle:
            [_ async for _ in handle.chunks()]
    assert server.connections == 2  # a's was reused by b, which dropped it; c opened another
