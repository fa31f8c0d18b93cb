"""The connection pool: reuse, order, the cap and its queue, the stale-connection retry, connecting, TLS, closing."""

from __future__ import annotations

import asyncio
import socket
import ssl
from pathlib import Path

import pytest

from gateway.upstream.h1 import Answer, Closed, ConnectFailed, ConnectTimeout, PoolClosed
from gateway.upstream.pool import H1Pool, Origin
from tests.gateway.upstream.scripted import Peer, ScriptedServer, answer, keep_answering, scripted, self_signed


def which_connection(peer: Peer, _request: bytes) -> bytes:
    """Answers with the number of the connection the request came on."""
    return answer(str(peer.index).encode())


def pool_for(server: ScriptedServer, **options: float) -> H1Pool:
    settings: dict[str, float] = {"max_connections": 4, "connect_timeout_s": 2.0, "read_timeout_s": 5.0} | options
    return H1Pool(
        Origin.parse(server.url),
        max_connections=int(settings["max_connections"]),
        connect_timeout_s=settings["connect_timeout_s"],
        read_timeout_s=settings["read_timeout_s"],
        keepalive_s=settings.get("keepalive_s", 15.0),
    )


async def ask(pool: H1Pool) -> Answer:
    return await pool.request(pool.origin.head("POST", "/", {}), b"{}")


async def body_of(pool: H1Pool) -> bytes:
    reply = await ask(pool)
    try:
        return await reply.read()
    finally:
        reply.release()


def test_origins_parse_hosts_ports_and_paths() -> None:
    """An origin has its host (IPv6 without brackets), its port (80/443 by default) and its base path."""
    v6 = Origin.parse("http://[::1]:8080/mistral/")
    assert (v6.host, v6.port, v6.path, v6.authority) == ("::1", 8080, "/mistral", "[::1]:8080")
    tls = Origin.parse("https://api.mistral.ai")
    assert (tls.scheme, tls.host, tls.port, tls.path, tls.authority) == (
        "https",
        "api.mistral.ai",
        443,
        "",
        "api.mistral.ai",
    )
    assert Origin.parse("http://vllm").authority == "vllm"
    assert Origin.parse("http://[::1]").authority == "[::1]"
    assert Origin.parse("HTTP://vllm:80/").authority == "vllm"
    for bad in ("ftp://host", "http://", "vllm:8000"):
        with pytest.raises(ValueError):
            Origin.parse(bad)


async def test_a_connection_is_reused() -> None:
    """Two requests in turn travel on one connection: the server accepted one."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server)
        assert [await body_of(pool), await body_of(pool)] == [b"0", b"0"]
        assert server.connections == 1
        await pool.close()


async def test_the_most_recently_released_connection_is_used_first() -> None:
    """Idle connections are taken last in, first out."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server)
        first, second = await ask(pool), await ask(pool)
        bodies = [await first.read(), await second.read()]
        assert bodies == [b"0", b"1"]
        second.release()
        first.release()
        assert await body_of(pool) == b"0"
        assert server.connections == 2
        await pool.close()


async def test_at_the_cap_a_request_waits_for_a_released_connection() -> None:
    """With max_connections reached, a request waits and is served on the connection released first."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server, max_connections=1)
        holding = await ask(pool)
        waiting = asyncio.create_task(body_of(pool))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        assert pool.counts == (1, 0, 1)
        assert await holding.read() == b"0"
        holding.release()
        assert await asyncio.wait_for(waiting, 2) == b"0"
        assert server.connections == 1
        await pool.close()


async def test_waiters_are_served_in_order() -> None:
    """Requests queued at the cap are served first come, first served."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server, max_connections=1)
        holding = await ask(pool)
        order: list[int] = []

        async def queued(i: int) -> None:
            await body_of(pool)
            order.append(i)

        tasks = []
        for i in range(3):
            tasks.append(asyncio.create_task(queued(i)))
            await asyncio.sleep(0.01)
        await holding.read()
        holding.release()
        await asyncio.wait_for(asyncio.gather(*tasks), 2)
        assert order == [0, 1, 2]
        await pool.close()


async def test_a_connection_lost_frees_its_slot_for_a_waiter() -> None:
    """A connection that is closed instead of released lets the next request in the queue open a new one."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server, max_connections=1)
        holding = await ask(pool)
        waiting = asyncio.create_task(body_of(pool))
        await asyncio.sleep(0.05)
        holding.close()
        assert await asyncio.wait_for(waiting, 2) == b"1"
        assert pool.counts == (1, 1, 0)
        await pool.close()


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    """A queued request cancelled before its turn takes nothing with it: the next one is served."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server, max_connections=1)
        holding = await ask(pool)
        gone = asyncio.create_task(body_of(pool))
        await asyncio.sleep(0.02)
        gone.cancel()
        await asyncio.sleep(0.02)
        assert pool.counts == (1, 0, 0)
        await holding.read()
        holding.release()
        assert await body_of(pool) == b"0"
        await pool.close()


async def test_an_idle_connection_older_than_keepalive_is_not_reused() -> None:
    """A connection idle longer than keepalive_s is dropped; the next request opens a new one."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server, keepalive_s=0.05)
        assert await body_of(pool) == b"0"
        await asyncio.sleep(0.1)
        assert await body_of(pool) == b"1"
        await pool.close()


def keep_alive_as_asked(peer: Peer, request: bytes) -> bytes:
    """Answers with the connection's number and, if the request's body is not empty, ``Keep-Alive: <body>``."""
    asked = request.partition(b"\r\n\r\n")[2].decode()
    return answer(str(peer.index).encode(), headers=(f"Keep-Alive: {asked}",) if asked else ())


async def said(pool: H1Pool, keep_alive: str) -> bytes:
    """The body of an answer the server gives with ``Keep-Alive: keep_alive`` (none if empty)."""
    reply = await pool.request(pool.origin.head("POST", "/", {}), keep_alive.encode())
    try:
        return await reply.read()
    finally:
        reply.release()


async def test_a_server_keep_alive_timeout_shortens_the_idle_limit() -> None:
    """After Keep-Alive: timeout=2 a connection idles 1 s at most (2 less a second's margin), not keepalive_s.

    Reused at once; past the limit the request goes on a new connection (nothing is sent on the old
    one, which is closed and frees its slot: with max_connections 1 the new one can open).
    """
    async with scripted(keep_answering(keep_alive_as_asked)) as server:
        pool = pool_for(server, max_connections=1)
        assert await said(pool, "timeout=2, max=100") == b"0"
        assert await said(pool, "timeout=2, max=99") == b"0"
        await asyncio.sleep(1.1)
        assert await said(pool, "") == b"1"
        assert server.connections == 2
        assert len(server.requests) == 3
        assert pool.counts == (1, 1, 0)
        await pool.close()


async def test_the_last_answer_sets_the_idle_limit() -> None:
    """An answer without Keep-Alive after one with it gives the connection keepalive_s again."""
    async with scripted(keep_answering(keep_alive_as_asked)) as server:
        pool = pool_for(server)
        assert await said(pool, "timeout=2") == b"0"
        assert await said(pool, "") == b"0"
        await asyncio.sleep(1.1)
        assert await said(pool, "") == b"0"
        assert server.connections == 1
        await pool.close()


@pytest.mark.parametrize("keep_alive", ["timeout=1", "max=100, Timeout=1", "TIMEOUT = 1 , MAX=5", "timeout=0"])
async def test_a_keep_alive_timeout_of_a_second_or_less_leaves_no_idle_time(keep_alive: str) -> None:
    """timeout=1 (however spelled) less the margin leaves nothing: released with nobody waiting, the connection is closed."""
    async with scripted(keep_answering(keep_alive_as_asked)) as server:
        pool = pool_for(server)
        assert await said(pool, keep_alive) == b"0"
        assert await said(pool, keep_alive) == b"1"
        await asyncio.sleep(0.01)  # both closed on release: each connection_lost has run
        assert pool.counts == (0, 0, 0)
        await pool.close()


async def test_a_connection_with_no_idle_time_still_serves_a_queued_request() -> None:
    """Handed straight to a request waiting at the cap, a connection never idles: it is reused even after timeout=1."""
    async with scripted(keep_answering(keep_alive_as_asked)) as server:
        pool = pool_for(server, max_connections=1)
        holding = await pool.request(pool.origin.head("POST", "/", {}), b"timeout=1")
        waiting = asyncio.create_task(said(pool, ""))
        await asyncio.sleep(0.02)
        assert await holding.read() == b"0"
        holding.release()
        assert await asyncio.wait_for(waiting, 2) == b"0"
        assert server.connections == 1
        await pool.close()


async def test_keepalive_s_wins_over_a_longer_server_timeout() -> None:
    """The server allowing 60 s does not extend the pool's own keepalive_s."""
    async with scripted(keep_answering(keep_alive_as_asked)) as server:
        pool = pool_for(server, keepalive_s=0.05)
        assert await said(pool, "timeout=60") == b"0"
        await asyncio.sleep(0.1)
        assert await said(pool, "timeout=60") == b"1"
        await pool.close()


@pytest.mark.parametrize(
    "keep_alive", ["timeout=soon", "timeout=", "timeout", "timeout=-1", "timeout=0.5", "timeout=1e0", "max=1"]
)
async def test_a_malformed_keep_alive_timeout_is_ignored(keep_alive: str) -> None:
    """A timeout that is not whole seconds, or none at all, leaves keepalive_s in force: the connection is reused."""
    async with scripted(keep_answering(keep_alive_as_asked)) as server:
        pool = pool_for(server)
        assert await said(pool, keep_alive) == b"0"
        await asyncio.sleep(0.05)
        assert await said(pool, keep_alive) == b"0"
        await pool.close()


async def test_a_stale_keepalive_connection_is_retried_once_on_a_new_one() -> None:
    """The server closing an idle connection as it is reused, with no answer byte sent, is retried on a new connection."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer(str(peer.index).encode()))
        if peer.index == 0:
            await peer.request()  # the keep-alive timeout struck as the second request came: closed unanswered
            return
        while await peer.request():
            await peer.send(answer(str(peer.index).encode()))

    async with scripted(script) as server:
        pool = pool_for(server)
        assert [await body_of(pool), await body_of(pool)] == [b"0", b"1"]
        assert server.connections == 2
        assert len(server.requests) == 3
        await pool.close()


async def test_no_retry_once_an_answer_byte_arrived() -> None:
    """A reused connection that breaks after the answer began raises Closed: the server may have acted."""

    async def script(peer: Peer) -> None:
        await peer.request()
        await peer.send(answer())
        await peer.request()
        await peer.send(b"HTTP/1.1 200")

    async with scripted(script) as server:
        pool = pool_for(server)
        assert await body_of(pool) == b"ok"
        with pytest.raises(Closed) as info:
            await body_of(pool)
        assert info.value.answered
        assert server.connections == 1
        await pool.close()


async def test_a_new_connection_closed_unanswered_is_not_retried() -> None:
    """Only a reused connection earns the retry: a fresh one closed unanswered raises Closed at once."""

    async def script(peer: Peer) -> None:
        await peer.request()

    async with scripted(script) as server:
        pool = pool_for(server)
        with pytest.raises(Closed) as info:
            await body_of(pool)
        assert not info.value.answered
        assert server.connections == 1
        await pool.close()


async def test_a_refused_connection_is_connect_failed() -> None:
    """Nobody listening: ConnectFailed, and the slot is free again."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = H1Pool(Origin.parse(f"http://127.0.0.1:{port}"), max_connections=1, connect_timeout_s=2, read_timeout_s=2)
    for _ in range(2):
        with pytest.raises(ConnectFailed):
            await body_of(pool)
    assert pool.counts == (0, 0, 0)
    await pool.close()


async def test_a_handshake_that_never_ends_is_connect_timeout() -> None:
    """A TLS origin whose server accepts the socket but never answers the handshake: ConnectTimeout."""

    async def script(peer: Peer) -> None:
        await peer.closed_by_client()

    async with scripted(script) as server:
        origin = Origin.parse(f"https://127.0.0.1:{server.port}")
        pool = H1Pool(origin, max_connections=1, connect_timeout_s=0.2, read_timeout_s=5)
        with pytest.raises(ConnectTimeout):
            await body_of(pool)
        assert pool.counts == (0, 0, 0)
        await pool.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI: (cert, key)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


async def test_tls_with_a_trusted_certificate(certificate: tuple[Path, Path]) -> None:
    """An https origin is reached over TLS, the server's certificate checked against the given trust, and reused."""
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    async with scripted(keep_answering(which_connection), tls=served) as server:
        trusting = ssl.create_default_context(cafile=str(cert))
        pool = H1Pool(
            Origin.parse(server.url), max_connections=2, connect_timeout_s=2, read_timeout_s=5, ssl_context=trusting
        )
        assert [await body_of(pool), await body_of(pool)] == [b"0", b"0"]
        await pool.close()


async def test_an_untrusted_certificate_is_connect_failed(certificate: tuple[Path, Path]) -> None:
    """Without trust in the self-signed certificate the handshake fails: ConnectFailed, nothing sent."""
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    async with scripted(keep_answering(which_connection), tls=served) as server:
        pool = H1Pool(Origin.parse(server.url), max_connections=2, connect_timeout_s=2, read_timeout_s=5)
        with pytest.raises(ConnectFailed):
            await body_of(pool)
        assert server.requests == []
        await pool.close()


async def test_close_fails_waiters_and_later_requests() -> None:
    """Closing the pool fails queued requests and every later one with PoolClosed, and closes busy connections."""
    async with scripted(keep_answering(which_connection)) as server:
        pool = pool_for(server, max_connections=1)
        holding = await ask(pool)
        waiting = asyncio.create_task(body_of(pool))
        await asyncio.sleep(0.02)
        await pool.close()
        with pytest.raises(PoolClosed):
            await waiting
        with pytest.raises(PoolClosed):
            await body_of(pool)
        holding.release()
        await asyncio.sleep(0.01)
        assert pool.counts == (0, 0, 0)
