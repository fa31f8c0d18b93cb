"""One HTTP/1.1 exchange on the gateway's own client: framing, decoding, flow control, timeouts, errors."""

from __future__ import annotations

import asyncio
import gzip
import random
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest

from gateway.upstream.h1 import DEFAULT_MAX_DECODED_BYTES, Answer, BadAnswer, Closed, ReadTimeout, RequestHead
from gateway.upstream.pool import H1Pool, Origin
from tests.gateway.upstream.scripted import (
    CHUNKED_HEAD,
    Peer,
    Script,
    ScriptedServer,
    answer,
    chunk,
    gzipped,
    keep_answering,
    scripted,
)

BODY = b'{"model":"m","messages":[]}'


def pool_for(
    server: ScriptedServer, *, read_timeout_s: float = 5.0, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES
) -> H1Pool:
    origin = Origin.parse(server.url + "/base")
    return H1Pool(
        origin,
        max_connections=4,
        connect_timeout_s=2.0,
        read_timeout_s=read_timeout_s,
        max_decoded_bytes=max_decoded_bytes,
    )


def head_for(pool: H1Pool) -> RequestHead:
    return pool.origin.head("POST", "/v1/chat/completions", {"content-type": "application/json"})


async def ask(pool: H1Pool, request_id: str | None = "req-1") -> Answer:
    return await pool.request(head_for(pool), BODY, request_id=request_id)


async def pieces_of(answer: Answer, heartbeat_s: float | None = None) -> list[bytes]:
    return [piece async for piece in answer.pieces(heartbeat_s)]


@pytest.fixture
async def twice() -> AsyncIterator[ScriptedServer]:
    """A server answering every request on a connection with "ok"."""
    async with scripted(keep_answering(lambda _peer, _request: answer())) as server:
        yield server


def test_request_head_is_encoded_once_and_completed_per_request() -> None:
    """The fixed part is encoded at construction; each request adds content-length, x-request-id and the body."""
    head = RequestHead("POST", "/v1/x", {"host": "h:81", "accept": "application/json"})
    assert head.encode(b"{}", "r-1") == (
        b"POST /v1/x HTTP/1.1\r\nhost: h:81\r\naccept: application/json\r\n"
        b"content-length: 2\r\nx-request-id: r-1\r\n\r\n{}"
    )
    assert (
        head.encode(b"")
        == b"POST /v1/x HTTP/1.1\r\nhost: h:81\r\naccept: application/json\r\ncontent-length: 0\r\n\r\n"
    )


def test_a_line_break_cannot_smuggle_a_header() -> None:
    """A header value or request id holding CR or LF is refused, not written."""
    with pytest.raises(ValueError):
        RequestHead("POST", "/", {"authorization": "Bearer k\r\nx-evil: 1"})
    with pytest.raises(ValueError):
        RequestHead("POST", "/", {}).encode(b"", "id\nx-evil: 1")


async def test_content_length_body_and_the_request_the_server_saw(twice: ScriptedServer) -> None:
    """A content-length answer is read whole; the server got host, the base path, the length and the request id."""
    pool = pool_for(twice)
    reply = await ask(pool)
    assert (reply.status, await reply.read()) == (200, b"ok")
    reply.release()
    request = twice.requests[0]
    assert request.startswith(b"POST /base/v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"\r\ncontent-length: 27\r\nx-request-id: req-1\r\n\r\n" + BODY in request
    assert b"user-agent" not in request.lower()
    await pool.close()


async def test_headers_are_lower_cased() -> None:
    """Header names arrive lower-cased, values as sent."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer(headers=("Content-Type: application/json", "Retry-After: 7")))

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        assert reply.headers["content-type"] == "application/json"
        assert reply.headers["retry-after"] == "7"
        reply.release()
        await pool.close()


async def test_chunked_body_arrives_piece_by_piece() -> None:
    """A chunked answer gives one piece per arrival, de-chunked, and reads to its end."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(CHUNKED_HEAD, chunk(b"data: 1\n\n"), chunk(b"data: 2\n\n"), chunk(b""), pause_s=0.05)

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        assert await pieces_of(reply) == [b"data: 1\n\n", b"data: 2\n\n"]
        reply.release()
        await pool.close()


async def test_a_head_split_into_single_bytes_is_parsed() -> None:
    """The head and body may come a byte at a time."""
    whole = answer(b"split", headers=("x-a: b",))

    async def script(peer: Peer) -> None:
        await peer.request()
        for byte in whole:
            await peer.send(bytes([byte]))

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        assert (reply.headers["x-a"], await reply.read()) == ("b", b"split")
        reply.release()
        await pool.close()


async def test_a_body_read_until_close_and_its_connection_not_reused() -> None:
    """An answer with neither length nor chunks ends when the server closes; the next request opens a new connection."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\n\r\nuntil ", b"close", pause_s=0.02)

    async with scripted(script) as server:
        pool = pool_for(server)
        for _ in range(2):
            reply = await ask(pool)
            assert await reply.read() == b"until close"
            reply.release()
        assert server.connections == 2
        await pool.close()


async def test_interim_100_continue_is_skipped() -> None:
    """A 100 Continue before the answer is passed over, headers and all."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 100 Continue\r\nx-interim: 1\r\n\r\n", answer(b"final"))

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        assert (reply.status, await reply.read()) == (200, b"final")
        assert "x-interim" not in reply.headers
        reply.release()
        await pool.close()


@pytest.mark.parametrize(
    "reply",
    [
        answer(headers=("connection: close",)),
        answer(headers=("Connection: Close", "Keep-Alive: timeout=60")),
        b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ],
)
async def test_connection_close_and_http_1_0_are_not_reused(reply: bytes) -> None:
    """An answer saying Connection: close (a Keep-Alive header beside it changes nothing), or an HTTP/1.0 one,
    leaves its connection out of the pool."""
    async with scripted(keep_answering(lambda _peer, _request: reply)) as server:
        pool = pool_for(server)
        for _ in range(2):
            got = await ask(pool)
            assert await got.read() == b"ok"
            got.release()
        assert server.connections == 2
        await pool.close()


async def test_gzip_is_decoded() -> None:
    """A gzip-encoded body (we never ask for one) is handed over decoded."""
    text = b"hello " * 1000
    async with scripted(keep_answering(lambda _peer, _request: gzipped(text))) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        assert await reply.read() == text
        reply.release()
        await pool.close()


async def test_deflate_is_decoded_piece_by_piece() -> None:
    """A deflate-encoded chunked body decodes across pieces."""
    packed = zlib.compress(b"data: streamed\n\n" * 50)

    async def script(peer: Peer) -> None:
        await peer.request()
        head = CHUNKED_HEAD.replace(b"\r\n\r\n", b"\r\ncontent-encoding: deflate\r\n\r\n")
        await peer.send(head, chunk(packed[:10]), chunk(packed[10:]), chunk(b""), pause_s=0.02)

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        assert b"".join(await pieces_of(reply)) == b"data: streamed\n\n" * 50
        reply.release()
        await pool.close()


@pytest.mark.parametrize("size", [4095, 4096])
async def test_a_gzip_body_up_to_max_decoded_bytes_is_read(size: int) -> None:
    """A body decoding to the cap, or just under, is read whole and its connection reused."""
    text = b"x" * size
    async with scripted(keep_answering(lambda _peer, _request: gzipped(text))) as server:
        pool = pool_for(server, max_decoded_bytes=4096)
        for _ in range(2):
            reply = await ask(pool)
            assert await reply.read() == text
            reply.release()
        assert server.connections == 1
        await pool.close()


async def test_a_gzip_body_over_max_decoded_bytes_is_a_bad_answer_and_its_connection_closed() -> None:
    """A byte over the cap raises BadAnswer naming the limit; the connection is closed, not pooled."""
    text = b"x" * 4097

    def reply(peer: Peer, _request: bytes) -> bytes:
        return gzipped(text) if peer.index == 0 else answer()

    async with scripted(keep_answering(reply)) as server:
        pool = pool_for(server, max_decoded_bytes=4096)
        with pytest.raises(BadAnswer, match="limit of 4096 bytes"):
            got = await ask(pool)  # the whole answer came at once: the error is known with the head
            await got.read()
        await asyncio.sleep(0.01)
        assert pool.counts == (0, 0, 0)
        got = await ask(pool)
        assert await got.read() == b"ok"
        got.release()
        assert server.connections == 2
        await pool.close()


@pytest.mark.parametrize("cut", [1, 8, 100])
async def test_a_gzip_body_cut_short_is_a_bad_answer(cut: int) -> None:
    """A body whose HTTP framing is complete but whose gzip stream stops early (its trailer, or more,
    missing) is refused rather than handed over as if whole; an empty body with the header is no stream."""
    packed = gzip.compress(random.Random(7).randbytes(5000))  # ~5 kB compressed: every cut leaves some
    truncated = answer(packed[:-cut], headers=("content-encoding: gzip",))
    async with scripted(keep_answering(lambda _peer, _request: truncated)) as server:
        pool = pool_for(server)
        with pytest.raises(BadAnswer, match="ends before"):
            got = await ask(pool)
            await got.read()
        await pool.close()
    empty = answer(b"", headers=("content-encoding: gzip",))
    async with scripted(keep_answering(lambda _peer, _request: empty)) as server:
        pool = pool_for(server)
        got = await ask(pool)
        assert await got.read() == b""
        got.release()
        await pool.close()


async def test_a_compressed_stream_is_capped_by_all_it_decoded() -> None:
    """Streamed pieces count together: those within the cap are delivered, then BadAnswer, and the connection closes."""
    packer = zlib.compressobj()
    packed = [packer.compress(letter * 1000) + packer.flush(zlib.Z_SYNC_FLUSH) for letter in (b"a", b"b", b"c")]

    async def script(peer: Peer) -> None:
        await peer.request()
        head = CHUNKED_HEAD.replace(b"\r\n\r\n", b"\r\ncontent-encoding: deflate\r\n\r\n")
        await peer.send(head, *(chunk(part) for part in packed), pause_s=0.02)
        await peer.closed_by_client()

    async with scripted(script) as server:
        pool = pool_for(server, max_decoded_bytes=2500)
        reply = await ask(pool)
        got = []
        with pytest.raises(BadAnswer, match="limit of 2500 bytes"):
            async for piece in reply.pieces():
                got.append(piece)
        assert got == [b"a" * 1000, b"b" * 1000]
        reply.release()
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)
        await pool.close()


async def test_a_decompression_bomb_never_inflates_past_the_cap() -> None:
    """32 MiB of zeros gzipped to a few kB, with a 1 MiB cap: refused having decoded about 1 MiB, never the whole."""
    bomb = gzipped(bytes(32 << 20))
    assert len(bomb) < 64 << 10
    async with scripted(keep_answering(lambda _peer, _request: bomb)) as server:
        pool = pool_for(server, max_decoded_bytes=1 << 20)
        tracemalloc.start()
        try:
            with pytest.raises(BadAnswer):
                reply = await ask(pool)
                await reply.read()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 8 << 20
        await pool.close()


@pytest.mark.parametrize(
    "garbage", [b"NOT HTTP AT ALL\r\n\r\n", answer(b"x" * 10, headers=("content-encoding: gzip",))]
)
async def test_garbage_is_a_bad_answer(garbage: bytes) -> None:
    """Bytes that are not HTTP, or a "gzip" body that is not gzip, raise BadAnswer."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(garbage)
        await peer.closed_by_client()

    async with scripted(script) as server:
        pool = pool_for(server)
        with pytest.raises(BadAnswer):
            reply = await ask(pool)
            await reply.read()
        await pool.close()


async def test_a_close_mid_body_is_closed_after_an_answer() -> None:
    """The server closing before the announced length arrived raises Closed, marked as answered."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        with pytest.raises(Closed) as info:
            await reply.read()
        assert info.value.answered
        reply.release()
        await pool.close()


async def test_pieces_before_a_break_are_delivered_then_the_error() -> None:
    """A stream that breaks off yields what arrived, then raises Closed."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(CHUNKED_HEAD, chunk(b"data: 1\n\n"))

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        got = []
        with pytest.raises(Closed):
            async for piece in reply.pieces():
                got.append(piece)
        assert got == [b"data: 1\n\n"]
        reply.release()
        await pool.close()


def stall(before_head: bool) -> Script:
    async def script(peer: Peer) -> None:
        await peer.request()
        if not before_head:
            await peer.send(CHUNKED_HEAD, chunk(b"data: 1\n\n"))
        await peer.closed_by_client()

    return script


@pytest.mark.parametrize("before_head", [True, False])
async def test_read_timeout_counts_the_longest_silence(before_head: bool) -> None:
    """Nothing for read_timeout_s, before the head or between two pieces, raises ReadTimeout and closes the connection."""
    async with scripted(stall(before_head)) as server:
        pool = pool_for(server, read_timeout_s=0.2)
        started = asyncio.get_running_loop().time()
        with pytest.raises(ReadTimeout):
            reply = await ask(pool)
            await pieces_of(reply)
        assert 0.18 < asyncio.get_running_loop().time() - started < 2.0
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)
        await pool.close()


async def test_a_steady_trickle_never_times_out() -> None:
    """Pieces closer together than the read timeout keep the answer alive however long it takes in all."""

    async def script(peer: Peer) -> None:
        await peer.request()
        parts = [chunk(b"data: %d\n\n" % i) for i in range(8)]
        await peer.send(CHUNKED_HEAD, *parts, chunk(b""), pause_s=0.06)

    async with scripted(script) as server:
        pool = pool_for(server, read_timeout_s=0.15)
        reply = await ask(pool)
        assert len(await pieces_of(reply)) == 8
        reply.release()
        await pool.close()


async def test_heartbeats_mark_a_silent_gap() -> None:
    """With heartbeat_s, a silent gap yields b"" markers between the pieces, and the body is unchanged."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(CHUNKED_HEAD, chunk(b"data: 1\n\n"), chunk(b"data: 2\n\n"), chunk(b""), pause_s=0.35)

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        got = await pieces_of(reply, heartbeat_s=0.1)
        assert [p for p in got if p] == [b"data: 1\n\n", b"data: 2\n\n"]
        first, second = got.index(b"data: 1\n\n"), got.index(b"data: 2\n\n")
        assert second - first - 1 >= 2  # 350 ms of silence: three 100 ms beats, two at least on a busy host
        assert set(got[first + 1 : second]) == {b""}
        reply.release()
        await pool.close()


async def test_a_large_unread_body_pauses_the_socket() -> None:
    """A consumer that stops reading stops the socket being read (the server's writes back up); reading resumes it."""
    size = 32 * 1024 * 1024
    drained, judged = asyncio.Event(), asyncio.Event()
    backed_up: list[bool] = []

    async def script(peer: Peer) -> None:
        await peer.request()
        peer.writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size + b"x" * size)
        try:
            await asyncio.wait_for(peer.writer.drain(), 0.5)
            backed_up.append(False)
        except TimeoutError:
            backed_up.append(True)
        judged.set()
        await peer.writer.drain()
        drained.set()
        await peer.closed_by_client()

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        await asyncio.wait_for(judged.wait(), 5)  # not reading: without a pause the client would take all 32 MB
        total = sum(len(piece) for piece in await pieces_of(reply))
        assert backed_up == [True]
        assert total == size
        await asyncio.wait_for(drained.wait(), 5)
        reply.release()
        await pool.close()


async def test_a_large_body_read_whole_is_never_held_back() -> None:
    """read() of a body far above the pause threshold gets it all, and the connection serves the next request."""
    big = b"y" * (3 * 1024 * 1024)
    async with scripted(keep_answering(lambda _peer, _request: answer(big))) as server:
        pool = pool_for(server, read_timeout_s=2.0)
        for _ in range(2):
            reply = await ask(pool)
            assert await asyncio.wait_for(reply.read(), 10) == big  # a paused socket would stall it for good
            reply.release()
        assert server.connections == 1
        await pool.close()


async def test_a_paused_answer_read_to_its_end_leaves_a_connection_that_reads_again() -> None:
    """A stream that paused the socket, then read to its end, leaves a reusable connection that reads the next answer."""
    big = b"z" * (1024 * 1024)
    async with scripted(keep_answering(lambda _peer, _request: answer(big))) as server:
        pool = pool_for(server, read_timeout_s=2.0)
        for _ in range(2):
            reply = await ask(pool)
            await asyncio.sleep(0.2)  # unread: the socket pauses, possibly with the whole answer in
            assert b"".join(await asyncio.wait_for(pieces_of(reply), 10)) == big
            reply.release()
        assert server.connections == 1
        await pool.close()


async def test_a_stream_left_early_closes_its_connection() -> None:
    """Closing an answer before its end closes the connection (the server sees it) and keeps it out of the pool."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(CHUNKED_HEAD, chunk(b"data: 1\n\n"))
        await peer.closed_by_client()

    async with scripted(script) as server:
        pool = pool_for(server)
        reply = await ask(pool)
        async for _piece in reply.pieces():
            break
        reply.release()  # not read to its end: release closes it too
        await asyncio.wait_for(server.peers[0].gone.wait(), 2)
        await asyncio.sleep(0)
        assert pool.counts == (0, 0, 0)
        await pool.close()
