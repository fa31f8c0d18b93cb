"""A pool of HTTP/1.1 connections to one origin: reuse, a cap with a queue, TLS, one safe retry.

Idle connections are reused most recently used first (the warm ones; the cold ones age out after
``keepalive_s``, or sooner when the server's ``Keep-Alive: timeout=N`` says it closes them sooner:
``H1Connection.idle_s``). One past its time is closed as it surfaces (taken from the top, or swept
from the bottom at each release), never sent a request; one whose server allows it no idle time
goes to a queued request at once or is closed. At ``max_connections`` a request waits its turn
(first come, first served) for a released connection or a freed slot. A slot is held from the
connect until the connection is lost, so the count cannot drift: ``connection_lost`` runs exactly
once for every connection made.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.upstream.h1 import (
    DEFAULT_MAX_DECODED_BYTES,
    Answer,
    Closed,
    ConnectFailed,
    ConnectTimeout,
    H1Connection,
    PoolClosed,
    RequestHead,
)

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a base URL points: scheme, host and port, and the path requests are appended to."""

    scheme: str
    host: str
    """The host to connect to, without the brackets of an IPv6 literal."""
    port: int
    path: str = ""
    """The base URL's path without its trailing slash (``""`` for a bare origin)."""

    @classmethod
    def parse(cls, url: str) -> Origin:
        """``http://host[:port][/path]`` or ``https://…``; IPv6 hosts in brackets."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) URL with a host: {url!r}")
        return cls(scheme, parts.hostname, parts.port or _DEFAULT_PORTS[scheme], parts.path.rstrip("/"))

    @property
    def authority(self) -> str:
        """The ``host`` header: the host (bracketed if IPv6) and the port unless it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def head(self, method: str, path: str, headers: dict[str, str]) -> RequestHead:
        """A request head for ``path`` below the base path, with the ``host`` header first."""
        return RequestHead(method, self.path + path, {"host": self.authority, **headers})


class H1Pool:
    """Connections to one origin, shared by every request to it from this event loop."""

    def __init__(
        self,
        origin: Origin,
        *,
        max_connections: int,
        connect_timeout_s: float,
        read_timeout_s: float,
        keepalive_s: float = 15.0,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``max_decoded_bytes`` caps the decoded size of a gzip or deflate answer (``BadAnswer`` beyond)."""
        if max_decoded_bytes < 0:
            raise ValueError("max_decoded_bytes cannot be negative")
        self.origin = origin
        self._max = max_connections
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s
        self._keepalive = keepalive_s
        self._max_decoded = max_decoded_bytes
        self._ssl = _tls(ssl_context) if origin.scheme == "https" else None
        self._loop = asyncio.get_running_loop()
        self._idle: deque[H1Connection] = deque()  # the most recently released on the right
        self._waiters: deque[asyncio.Future[H1Connection | None]] = deque()  # None: a free slot
        self._conns: set[H1Connection] = set()
        self._total = 0  # slots taken: connections open or being opened
        self.closed = False

    async def request(self, head: RequestHead, body: bytes, *, request_id: str | None = None) -> Answer:
        """Send one request; the answer's head has arrived when this returns. ``release`` it when done."""
        data = head.encode(body, request_id)
        conn, reused = await self._acquire(fresh=False)
        try:
            return await _send(conn, data)
        except Closed as exc:
            if not reused or exc.answered:
                raise
        # The server closed this idle keep-alive connection as we reused it, and sent nothing: it
        # did not process the request. Once more, on a new connection.
        conn, _ = await self._acquire(fresh=True)
        return await _send(conn, data)

    async def close(self) -> None:
        """Close every connection; queued and later requests fail with ``PoolClosed``."""
        self.closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the pool was closed"))
        self._idle.clear()
        for conn in list(self._conns):
            conn.close()
        await asyncio.sleep(0)  # let the transports report themselves lost

    @property
    def counts(self) -> tuple[int, int, int]:
        """(slots taken, idle connections, queued requests), for tests and diagnostics."""
        return self._total, sum(1 for c in self._idle if c.usable), len(self._waiters)

    async def _acquire(self, *, fresh: bool) -> tuple[H1Connection, bool]:
        """A connection to send on, and whether it was used before."""
        if self.closed:
            raise PoolClosed("the pool was closed")
        if not fresh and (conn := self._pop_idle()) is not None:
            return conn, True
        if fresh and self._total >= self._max and self._idle:
            self._idle.popleft().close()  # its slot, freed when it is lost, comes to the queue
        if self._total < self._max:
            self._total += 1
            return await self._connect(), False
        waiter: asyncio.Future[H1Connection | None] = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            got = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())  # served just as we were cancelled
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise
        if got is None:
            return await self._connect(), False
        return got, True

    async def _connect(self) -> H1Connection:
        """Open a connection in a slot already taken; the slot is freed again if that fails."""
        origin = self.origin
        conn = H1Connection(
            self._loop,
            read_timeout_s=self._read_timeout,
            keepalive_s=self._keepalive,
            max_decoded_bytes=self._max_decoded,
            on_idle=self._idled,
            on_lost=self._lost,
        )
        hostname = origin.host if self._ssl is not None else None
        try:
            async with asyncio.timeout(self._connect_timeout):
                await self._loop.create_connection(
                    lambda: conn, origin.host, origin.port, ssl=self._ssl, server_hostname=hostname
                )
        except BaseException as exc:
            if conn.made:
                conn.close()  # connection_lost frees the slot
            else:
                self._free_slot()
            if isinstance(exc, TimeoutError):
                raise ConnectTimeout(f"no connection to {origin.authority} in {self._connect_timeout:g} s") from exc
            if isinstance(exc, OSError):
                raise ConnectFailed(f"cannot connect to {origin.authority}: {exc}") from exc
            raise
        if self.closed:
            conn.close()
            raise PoolClosed("the pool was closed")
        self._conns.add(conn)
        return conn

    def _pop_idle(self) -> H1Connection | None:
        idle, now = self._idle, self._loop.time()
        while idle:
            conn = idle.pop()
            if conn.usable and now - conn.idle_since < conn.idle_s:
                return conn
            conn.close()  # closed or past its time; the older ones go one by one as they surface
        return None

    def _idled(self, conn: H1Connection) -> None:
        """A connection's answer was read to its end: serve the next in the queue, or keep it."""
        if self.closed:
            conn.close()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn.idle_s <= 0.0:  # the server closes it as soon as it idles: no use keeping it
            conn.close()
            return
        now = self._loop.time()
        conn.idle_since = now
        idle = self._idle
        idle.append(conn)
        while idle and (not idle[0].usable or now - idle[0].idle_since >= idle[0].idle_s):
            idle.popleft().close()

    def _give_back(self, got: H1Connection | None) -> None:
        if got is None:
            self._free_slot()
        else:
            self._idled(got)

    def _lost(self, conn: H1Connection) -> None:
        self._conns.discard(conn)
        self._free_slot()

    def _free_slot(self) -> None:
        """A slot came free: hand it to the first in the queue, or give it up."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._total -= 1


async def _send(conn: H1Connection, data: bytes) -> Answer:
    try:
        return await conn.send(data)
    except BaseException:
        conn.close()  # a failed or abandoned exchange leaves the connection in an unknown state
        raise


def _tls(context: ssl.SSLContext | None) -> ssl.SSLContext:
    context = context or ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context
