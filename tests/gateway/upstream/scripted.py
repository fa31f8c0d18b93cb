"""A scripted loopback server for the HTTP client's tests: each connection gets the raw bytes a script writes.

A script is an async function of one ``Peer`` (one accepted connection). It reads requests with
``peer.request()`` and answers whatever bytes it likes: split heads, chunked bodies, interim
answers, gzip, garbage, a close mid-body, a stall. The server counts the connections it accepted
and keeps every request it read, so tests can check reuse from the server's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

Script = Callable[["Peer"], Awaitable[None]]


class Peer:
    """The server's end of one connection."""

    def __init__(self, server: ScriptedServer, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.index = index
        """Which connection this is, counting from 0 in the order the server accepted them."""
        self.reader = reader
        self.writer = writer
        self.gone = asyncio.Event()
        """Set once ``closed_by_client`` saw the client close its end."""

    async def request(self) -> bytes:
        """The next whole request (head and ``content-length`` body); ``b""`` when the client closed."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return b""
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        request = head + await self.reader.readexactly(length)
        self.server.requests.append(request)
        return request

    async def send(self, *parts: bytes, pause_s: float = 0.0) -> None:
        """Write each part and flush it, pausing ``pause_s`` between parts (so each arrives on its own)."""
        for i, part in enumerate(parts):
            if i and pause_s:
                await asyncio.sleep(pause_s)
            self.writer.write(part)
            await self.writer.drain()

    async def closed_by_client(self, timeout_s: float = 5.0) -> bool:
        """Whether the client closes its end within ``timeout_s`` (reading and dropping what it still sends)."""
        try:
            async with asyncio.timeout(timeout_s):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        self.gone.set()
        return True

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@dataclass
class ScriptedServer:
    """A listening loopback server; ``url`` to reach it, ``connections`` and ``requests`` to check."""

    script: Script
    port: int = 0
    scheme: str = "http"
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    peers: list[Peer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = Peer(self, self.connections, reader, writer)
        self.connections += 1
        self.peers.append(peer)
        try:
            await self.script(peer)
        except ConnectionError:
            pass  # the client went away: some tests are about exactly that
        finally:
            await peer.close()


@contextlib.asynccontextmanager
async def scripted(script: Script, *, tls: ssl.SSLContext | None = None) -> AsyncIterator[ScriptedServer]:
    """Serve ``script`` on 127.0.0.1 (an ephemeral port) for the block."""
    server = ScriptedServer(script, scheme="https" if tls else "http")
    listening = await asyncio.start_server(server._handle, "127.0.0.1", 0, ssl=tls)
    server.port = listening.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listening.close()
        for peer in server.peers:
            peer.writer.close()
        await listening.wait_closed()


def answer(body: bytes = b"ok", *, status: str = "200 OK", headers: tuple[str, ...] = ()) -> bytes:
    """A whole answer framed by ``content-length``."""
    lines = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (``b""`` gives the last chunk)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def gzipped(body: bytes) -> bytes:
    """A whole answer whose body is gzip-encoded."""
    return answer(gzip.compress(body), headers=("content-encoding: gzip",))


def keep_answering(reply: Callable[[Peer, bytes], bytes]) -> Script:
    """A script answering every request on a connection with ``reply(peer, request)`` until the client leaves."""

    async def script(peer: Peer) -> None:
        while request := await peer.request():
            await peer.send(reply(peer, request))

    return script


def self_signed(where: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI in ``where``: (cert, key)."""
    cert, key = where / "cert.pem", where / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run(
        [*request, "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key
