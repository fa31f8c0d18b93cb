"""One HTTP/1.1 client connection on httptools: write a request, read its answer as it arrives.

A connection carries one exchange at a time. ``H1Connection.send`` writes the bytes a
``RequestHead`` built and waits for the answer's head; the ``Answer`` then gives the body, whole or
piece by piece, and ``release`` hands the connection back (to the pool's ``on_idle``) only when the
answer was received to its end on a keep-alive connection. Any other connection is closed: its
bytes could otherwise leak into the next exchange.

How long a released connection may then stay idle is ``idle_s``: the pool's ``keepalive_s``, or
less when the last answer carried ``Keep-Alive: timeout=N`` (the server closes idle connections
after N seconds): N less a second's margin, so that a request is never sent on a connection the
server is closing (``_idle_limit``).

A gzip or deflate body is decoded as it arrives, never past ``max_decoded_bytes`` in all: a body
that decodes to more (a decompression bomb: a few kB can inflate to gigabytes) fails with
``BadAnswer`` once the cap is passed, having held at most the cap and one byte, and its connection
is closed.

Everything this module and ``pool`` raise is an ``H1Error``:

    H1Error
    ├── ConnectFailed    no connection: refused, unreachable, unknown name, TLS handshake failed
    ├── ConnectTimeout   no connection within the connect timeout
    ├── ReadTimeout      nothing received for the read timeout (before the head, or between two pieces)
    ├── Closed           the peer closed before or while answering; ``answered`` says if any byte came
    ├── BadAnswer        the bytes were not an HTTP/1.1 answer (parser error, broken gzip, gzip over the cap)
    └── PoolClosed       the pool was closed
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from typing import cast

import httptools

_PAUSE_ABOVE = 256 * 1024
"""Unread body bytes above which the socket is no longer read (the consumer is slower than the server)."""
_RESUME_BELOW = 64 * 1024
_ENCODED = frozenset({"gzip", "x-gzip", "deflate"})
_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # zlib detects either header itself
DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024
"""The decoded size of a gzip or deflate body beyond which it is refused: far above any chat answer."""
_KEEP_ALIVE_MARGIN_S = 1.0
"""Taken off a server's ``Keep-Alive: timeout=N``: its clock starts before ours (the answer travels,
the reader finishes), and a request must reach it well before it closes; N <= 1 leaves no idle time."""


class H1Error(Exception):
    """Base of every error of the HTTP/1.1 client."""


class ConnectFailed(H1Error):
    """The connection could not be made."""


class ConnectTimeout(H1Error):
    """The connection was not made within the connect timeout."""


class ReadTimeout(H1Error):
    """The server sent nothing for longer than the read timeout."""


class Closed(H1Error):
    """The server closed the connection before the answer was complete."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered
        """Whether any byte of the answer had arrived (if not, the server may not have seen the request)."""


class BadAnswer(H1Error):
    """The server's bytes were not a well-formed HTTP/1.1 answer."""


class PoolClosed(H1Error):
    """The pool was closed before or while the request was served."""


class RequestHead:
    """A request line and its fixed headers, encoded once; ``encode`` adds what changes per request."""

    __slots__ = ("_prefix",)

    def __init__(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
        if any("\r" in line or "\n" in line for line in lines):
            raise ValueError("a request line or header holds a line break")
        self._prefix = ("\r\n".join(lines) + "\r\ncontent-length: ").encode("latin-1")

    def encode(self, body: bytes, request_id: str | None = None) -> bytes:
        """The whole request: head, ``content-length``, ``x-request-id`` when given, and the body."""
        length = str(len(body)).encode()
        if request_id is None:
            return b"".join((self._prefix, length, b"\r\n\r\n", body))
        if "\r" in request_id or "\n" in request_id:
            raise ValueError("a request id cannot hold a line break")
        return b"".join((self._prefix, length, b"\r\nx-request-id: ", request_id.encode(), b"\r\n\r\n", body))


class Answer:
    """A response whose head has arrived: status, headers (lower-cased names), and its body to read.

    Read it once (``read``, ``pieces`` or ``next_piece``), then ``release`` or ``close`` it exactly when done: after
    that its connection may carry another exchange. A repeated header keeps its last value.
    """

    __slots__ = ("_conn", "headers", "status")

    def __init__(self, conn: H1Connection, status: int, headers: dict[str, str]) -> None:
        self._conn = conn
        self.status = status
        self.headers = headers

    async def read(self) -> bytes:
        """The whole body (decoded when the server gzipped it)."""
        return await self._conn.read_all()

    async def pieces(self, heartbeat_s: float | None = None) -> AsyncIterator[bytes]:
        """The body as it arrives; with ``heartbeat_s``, ``b""`` whenever nothing came for that long."""
        conn = self._conn
        while (piece := await conn.next_piece(heartbeat_s)) is not None:
            yield piece

    async def next_piece(self, heartbeat_s: float | None = None) -> bytes | None:
        """What ``pieces`` yields next, ``None`` at the end: for a caller that iterates without a generator."""
        return await self._conn.next_piece(heartbeat_s)

    def release(self) -> None:
        """Done with the answer: reuse the connection if it was received to its end, else close it."""
        self._conn.release()

    def close(self) -> None:
        """Done with the answer: close the connection whatever its state (the server stops sending)."""
        self._conn.close()


class H1Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, fed by the event loop; the pool owns it between exchanges."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        read_timeout_s: float,
        keepalive_s: float,
        max_decoded_bytes: int,
        on_idle: Callable[[H1Connection], None],
        on_lost: Callable[[H1Connection], None],
    ) -> None:
        self._loop = loop
        self._read_timeout = read_timeout_s
        self._keepalive = keepalive_s
        self._max_decoded = max_decoded_bytes
        self._decoded = 0  # bytes decoded so far of the current answer, when it is encoded
        self._on_idle = on_idle
        self._on_lost = on_lost
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self.made = False
        """Whether ``connection_made`` ran (then ``connection_lost`` will too, exactly once)."""
        self.closed = False
        self.idle_since = 0.0
        self.idle_s = keepalive_s
        """How long this connection may stay idle once released: ``keepalive_s``, or less if the last answer said so."""
        self._timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[bool] | None = None
        self._reset()
        self._busy = False
        self._released = True

    def _reset(self) -> None:
        self._busy = True  # an exchange is under way: bytes are expected, a close before its end is an error
        self._released = False
        self._answered = False
        self._interim = False
        self._head: Answer | None = None
        self._raw: list[tuple[bytes, bytes]] = []
        self._until_close = False
        self._complete = False
        self._keep_alive = False
        self._decoder: zlib._Decompress | None = None
        self._compressed_in = False
        """Whether any compressed bytes came (an empty body with a content-encoding is no stream to end)."""
        self._incoming: list[bytes] = []
        self._pieces: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._whole = False
        self._error: H1Error | None = None
        self._last = 0.0

    @property
    def usable(self) -> bool:
        """Open, and not already closing (a server's FIN of an idle connection shows here)."""
        return not self.closed and self._transport is not None and not self._transport.is_closing()

    # -- the exchange, from the caller's side

    async def send(self, data: bytes) -> Answer:
        """Write a whole request and wait for the head of its (final, non-1xx) answer."""
        transport = self._transport
        if transport is None or not self.usable:
            raise Closed("the connection was closed before the request was sent", answered=False)
        self._reset()
        self._last = self._loop.time()
        if self._timer is None:  # else the last exchange's timer, still pending, serves this one too
            self._timer = self._loop.call_at(self._last + self._read_timeout, self._check_timeout)
        transport.write(data)
        while self._head is None:
            await self._wait(None)
        return self._head

    async def read_all(self) -> bytes:
        self._whole = True  # the reader wants every byte anyway: holding the socket back would stall it
        self._resume()
        while not self._complete:
            await self._wait(None)
        pieces, self._pieces, self._buffered = self._pieces, deque(), 0
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def next_piece(self, heartbeat_s: float | None) -> bytes | None:
        """The next unread piece, ``None`` at the end, ``b""`` when a heartbeat passed without one."""
        while not self._pieces:
            if self._complete:
                return None
            if not await self._wait(heartbeat_s):
                return b""
        piece = self._pieces.popleft()
        self._buffered -= len(piece)
        if self._paused and self._buffered < _RESUME_BELOW:
            self._resume()
        return piece

    def _resume(self) -> None:
        if self._paused and self._transport is not None:
            self._paused = False
            self._last = self._loop.time()  # the silence while paused was ours, not the server's
            self._transport.resume_reading()

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._complete and self._keep_alive and self._error is None and self.usable:
            self._busy = False
            self._pieces.clear()
            self._resume()  # the last read may have paused the socket as the answer completed
            self._on_idle(self)
        else:
            self.close()

    def close(self) -> None:
        self._released = True
        if self._transport is not None and not self.closed:
            self._transport.close()

    async def _wait(self, heartbeat_s: float | None) -> bool:
        """Until the exchange moves (True) or a heartbeat passes (False); raises the exchange's error."""
        if self._error is not None:
            raise self._error
        waiter: asyncio.Future[bool] = self._loop.create_future()
        self._waiter = waiter
        beat = None if heartbeat_s is None else self._loop.call_later(heartbeat_s, _beat, waiter)
        try:
            moved = await waiter
        finally:
            self._waiter = None
            if beat is not None:
                beat.cancel()
        if self._error is not None:
            raise self._error
        return moved

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    def _fail(self, error: H1Error) -> None:
        if self._error is None:
            self._error = error
        self._stop_timer()
        self._wake()
        self.close()

    # -- timing: one timer, left pending between exchanges of a kept-alive connection; when it fires
    # it re-arms itself from the last arrival, so no piece and no request cancels or creates one

    def _check_timeout(self) -> None:
        self._timer = None
        if not self._busy or self._complete or self.closed:
            return
        now = self._loop.time()
        due = now + self._read_timeout if self._paused else self._last + self._read_timeout
        if due <= now:
            self._fail(ReadTimeout(f"nothing received for {self._read_timeout:g} s"))
            return
        self._timer = self._loop.call_at(due, self._check_timeout)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self.made = True

    def data_received(self, data: bytes) -> None:
        if not self._busy or self._complete:  # bytes nobody asked for: the connection cannot be trusted
            self._keep_alive = False
            self.close()
            return
        self._answered = True
        self._last = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BadAnswer(f"not an HTTP/1.1 answer: {exc}"))
            return
        except httptools.HttpParserUpgrade:
            self._fail(BadAnswer("the server switched protocols"))
            return
        if self._incoming:
            self._push()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._stop_timer()
        if self._busy and not self._complete and self._error is None:
            if self._head is not None and self._until_close:
                self._finish()  # a body without length or chunks ends where the connection does
            else:
                where = "while answering" if self._answered else "before answering"
                self._fail(Closed(f"the server closed the connection {where}", answered=self._answered))
        self._on_lost(self)

    # -- httptools callbacks

    def on_message_begin(self) -> None:
        if self._complete:  # a second answer to one request: never reuse this connection
            self._keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw.append((name, value))

    def on_headers_complete(self) -> None:
        if self._complete:
            return
        status = self._parser.get_status_code()
        if status < 200:  # 100 Continue and other interim answers: skipped, headers and all
            self._interim = True
            self._raw.clear()
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self._raw}
        self._until_close = "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "")
        kept = headers.get("keep-alive")
        self.idle_s = self._keepalive if kept is None else _idle_limit(kept, self._keepalive)
        if headers.get("content-encoding", "").lower() in _ENCODED:
            self._decoder = zlib.decompressobj(_GZIP_OR_ZLIB)
            self._decoded = 0
        self._head = Answer(self, status, headers)
        self._wake()

    def on_body(self, body: bytes) -> None:
        if not self._interim and not self._complete:
            self._incoming.append(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if self._complete:
            return
        self._keep_alive = self._parser.should_keep_alive()
        self._finish()

    # -- the body

    def _push(self) -> None:
        """Make what one ``data_received`` brought one piece for the reader."""
        incoming = self._incoming
        data = incoming[0] if len(incoming) == 1 else b"".join(incoming)
        incoming.clear()
        if self._decoder is not None:
            self._compressed_in = self._compressed_in or bool(data)
            room = self._max_decoded - self._decoded
            try:
                # At most one byte past the cap; less than room + 1 means all the input was used.
                data = self._decoder.decompress(data, room + 1)
            except zlib.error as exc:
                self._fail(BadAnswer(f"the body does not decompress: {exc}"))
                return
            if len(data) > room:
                self._fail(self._over_cap())
                return
            self._decoded += len(data)
        if not data:
            return
        self._pieces.append(data)
        self._buffered += len(data)
        if self._buffered > _PAUSE_ABOVE and not self._paused and not self._whole and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def _finish(self) -> None:
        if self._incoming:
            self._push()
        decoder = self._decoder
        if decoder is not None and self._error is None:
            tail = decoder.flush()  # nothing in practice: each decompress used all its input
            if len(tail) > self._max_decoded - self._decoded:
                self._fail(self._over_cap())
            elif self._compressed_in and not decoder.eof:
                self._fail(BadAnswer("the compressed body ends before its compressed data does"))
            elif tail:
                self._pieces.append(tail)
                self._buffered += len(tail)
        if self._error is not None:
            return
        self._complete = True
        self._wake()

    def _over_cap(self) -> BadAnswer:
        return BadAnswer(f"the decoded body is over the limit of {self._max_decoded} bytes (max_decoded_bytes)")


def _idle_limit(keep_alive: str, keepalive_s: float) -> float:
    """The idle time a ``Keep-Alive`` header allows: its ``timeout`` (whole seconds) less the margin, at
    most ``keepalive_s``, at least 0; ``keepalive_s`` when it has no ``timeout`` or a malformed one."""
    for param in keep_alive.split(","):
        name, _, value = param.partition("=")
        if name.strip().lower() == "timeout":
            value = value.strip()
            if value.isascii() and value.isdigit():
                return min(keepalive_s, max(0.0, int(value) - _KEEP_ALIVE_MARGIN_S))
            return keepalive_s
    return keepalive_s


def _beat(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)
