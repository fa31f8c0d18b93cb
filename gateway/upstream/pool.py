"""A pool of HTTP/1.1 connections to one origin: reuse, a cap with a queue, TLS, one safe retry.

Idle connections are reused most recently used first (the warm ones; the cold ones age out after
``keepalive_s``, or sooner when the server's ``Keep-Alive: timeout=N`` says it closes them sooner:
``H1Connection.idle_s``). One past its time is closed as it surfaces (taken from the top, or swept
from the bottom at each release), never sent a request; one whose server allows it no idle time
goes to a queued request at once or is closed. At ``max_connections`` a request waits its turn
(first come, first served) for a released connection or a freed slot. A slot is held from the
connect until the connection is lost, so the count cannot drift: ``connection_lost`` runs exactly
once for every connection made.

Through an HTTP ``Proxy`` (egress proxies: ``HTTPS_PROXY`` and the like, resolved by the factory)
every connection is a tunnel: TCP to the proxy, ``CONNECT host:port``, and on its 2xx answer TLS to
the origin over that socket (``loop.start_tls``, ALPN http/1.1 as when direct), or plain HTTP for an
http origin. Tunnelling the http origins too, rather than sending them absolute-form targets, keeps
one code path and keeps the connection the origin's own (its keep-alive, its ``Keep-Alive:
timeout``); a proxy that only allows CONNECT to port 443 (squid's default ``SSL_ports``) refuses it
with a 403, which is a ``ConnectFailed`` naming that status. Once made, a tunnelled connection is
pooled and reused exactly like a direct one; the connect timeout covers the whole set-up. Whether
there is a proxy is fixed when the pool is built: a direct pool's path is what it was.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections import deque
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import unquote, urlsplit

from gateway.settings import split_proxy_url
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
_MAX_PROXY_HEAD = 16 * 1024
"""The longest head of a proxy's answer to CONNECT that is read: anything longer is no proxy's."""


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


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy that connections tunnel through with ``CONNECT``: ``http://[user:pass@]host:port``."""

    host: str
    """The proxy's host, without the brackets of an IPv6 literal."""
    port: int
    authorization: str | None = field(default=None, repr=False)
    """``Basic …`` for ``Proxy-Authorization`` when the URL holds credentials (percent-decoded, UTF-8)."""

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """``http://[user:pass@]host:port[/]``; an https proxy, a missing host or port is a ``ValueError``."""
        parts = split_proxy_url(url)
        authorization = None
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            authorization = "Basic " + base64.b64encode(credentials).decode("ascii")
        assert parts.hostname is not None and parts.port is not None  # split_proxy_url checked both
        return cls(parts.hostname, parts.port, authorization)

    @property
    def authority(self) -> str:
        """``host:port`` (the host bracketed if IPv6), to name the proxy in errors: no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def connect_request(self, origin: Origin) -> bytes:
        """The ``CONNECT`` request that opens a tunnel to ``origin``, with the credentials if any."""
        host = f"[{origin.host}]" if ":" in origin.host else origin.host
        target = f"{host}:{origin.port}"
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        if self.authorization is not None:
            lines.append(f"Proxy-Authorization: {self.authorization}")
        if any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a CONNECT request line or header holds a line break")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


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
        proxy: Proxy | None = None,
    ) -> None:
        """``max_decoded_bytes`` caps the decoded size of a gzip or deflate answer (``BadAnswer`` beyond);
        with ``proxy`` every connection is a ``CONNECT`` tunnel through it."""
        if max_decoded_bytes < 0:
            raise ValueError("max_decoded_bytes cannot be negative")
        self.origin = origin
        self._max = max_connections
        self._connect_timeout = connect_timeout_s
        self._read_timeout = read_timeout_s
        self._keepalive = keepalive_s
        self._max_decoded = max_decoded_bytes
        self._ssl = _tls(ssl_context) if origin.scheme == "https" else None
        self._proxy = proxy
        self._connect_request = proxy.connect_request(origin) if proxy is not None else b""
        self._where = origin.authority if proxy is None else f"{origin.authority} through proxy {proxy.authority}"
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
    def proxy(self) -> Proxy | None:
        """The proxy every connection tunnels through, or ``None`` for direct connections."""
        return self._proxy

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
        tunnel: _Tunnel | None = None
        try:
            async with asyncio.timeout(self._connect_timeout):
                if self._proxy is None:
                    hostname = origin.host if self._ssl is not None else None
                    await self._loop.create_connection(
                        lambda: conn, origin.host, origin.port, ssl=self._ssl, server_hostname=hostname
                    )
                else:
                    tunnel = _Tunnel(self._loop, f"proxy {self._proxy.authority}")
                    await self._tunnel(tunnel, conn, self._proxy)
        except BaseException as exc:
            if conn.made:
                conn.close()  # connection_lost frees the slot
            else:
                if tunnel is not None:
                    tunnel.close()
                self._free_slot()
            if isinstance(exc, TimeoutError):
                raise ConnectTimeout(f"no connection to {self._where} in {self._connect_timeout:g} s") from exc
            if isinstance(exc, OSError):
                raise ConnectFailed(f"cannot connect to {self._where}: {exc}") from exc
            raise
        if self.closed:
            conn.close()
            raise PoolClosed("the pool was closed")
        self._conns.add(conn)
        return conn

    async def _tunnel(self, tunnel: _Tunnel, conn: H1Connection, proxy: Proxy) -> None:
        """Connect to the proxy, open a tunnel to the origin, start TLS in it for https, hand it to ``conn``.

        Until the hand-over the socket's protocol is ``tunnel`` (``start_tls`` is given it too), so a
        failure anywhere before leaves ``conn`` unmade: the caller closes the socket and frees the slot.
        """
        origin = self.origin
        transport, _ = await self._loop.create_connection(lambda: tunnel, proxy.host, proxy.port)
        transport.write(self._connect_request)
        code, reason = await tunnel.answer()
        if not 200 <= code < 300:  # any 2xx opens the tunnel (RFC 9110, 9.3.6)
            refused = f"proxy {proxy.authority} refused the tunnel to {origin.authority}: {code} {reason}"
            raise ConnectFailed(refused.rstrip())
        if tunnel.extra:  # an origin speaks only once asked (TLS: after our ClientHello)
            raise ConnectFailed(f"proxy {proxy.authority} sent bytes past its answer to CONNECT, unasked")
        if self._ssl is None:
            tunnel.hand_over(conn)
            transport.resume_reading()  # paused by the tunnel at the end of the proxy's answer
            return
        tls = await self._loop.start_tls(transport, tunnel, self._ssl, server_hostname=origin.host)
        if tls is None:  # only for a transport closed during the handshake
            raise ConnectFailed(f"the TLS handshake with {self._where} did not complete")
        tunnel.transport = tls
        tunnel.hand_over(conn)

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


class _Tunnel(asyncio.Protocol):
    """The socket's protocol while a tunnel is set up: reads the proxy's answer head, then hands over."""

    def __init__(self, loop: asyncio.AbstractEventLoop, proxy: str) -> None:
        self._proxy = proxy
        """``proxy host:port``, to name it in errors."""
        self._head: asyncio.Future[bytes] = loop.create_future()
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        """The raw socket's transport, then (after ``start_tls``) the TLS one over it."""
        self.extra = False
        """Whether bytes came after the answer's head: nothing may before the first request."""
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._head.done():
            self.extra = True
            return
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end >= 0:
            self.extra = end + 4 < len(self._buffer)
            if self.transport is not None:
                self.transport.pause_reading()  # resumed by start_tls, or after the hand-over
            self._head.set_result(bytes(self._buffer[:end]))
        elif len(self._buffer) > _MAX_PROXY_HEAD:
            self._head.set_exception(
                ConnectFailed(f"{self._proxy}'s answer to CONNECT is over {_MAX_PROXY_HEAD} bytes")
            )

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self._head.done():
            self._head.set_exception(ConnectFailed(f"{self._proxy} closed the connection before answering CONNECT"))

    async def answer(self) -> tuple[int, str]:
        """The status code and reason of the proxy's answer to CONNECT."""
        line = (await self._head).split(b"\r\n", 1)[0].decode("latin-1")
        version, _, rest = line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise ConnectFailed(f"{self._proxy}'s answer to CONNECT is not HTTP: {line[:80]!r}")
        return int(code), reason.strip()[:80]

    def hand_over(self, conn: H1Connection) -> None:
        """Make ``transport`` ``conn``'s own, unless the tunnel closed or was sent bytes meanwhile."""
        transport = self.transport
        if transport is None or self.lost or self.extra or transport.is_closing():
            raise ConnectFailed(f"{self._proxy}'s tunnel closed, or sent bytes unasked, as it was set up")
        transport.set_protocol(conn)
        conn.connection_made(transport)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self._head.cancel()  # nobody waits for it any more (no "exception never retrieved")


def _tls(context: ssl.SSLContext | None) -> ssl.SSLContext:
    context = context or ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context
