"""Egress proxies: CONNECT tunnels through a loopback proxy, its refusals, and the choice of proxy from config or environment."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.errors import UpstreamUnavailable
from gateway.settings import ConfigError, GatewayConfig, UpstreamConfig, UpstreamKind, parse_config
from gateway.upstream.factory import build_upstreams, no_proxy_matches
from gateway.upstream.h1 import ConnectFailed, ConnectTimeout
from gateway.upstream.http import HttpUpstream
from gateway.upstream.pool import H1Pool, Origin, Proxy
from tests.gateway.upstream.scripted import Peer, answer, keep_answering, scripted, self_signed

PAYLOAD = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class ConnectProxy:
    """A loopback CONNECT proxy: keeps each CONNECT head, answers ``status``, and on 200 pipes bytes both ways.

    With ``status`` None it never answers (it reads until the client leaves).
    """

    status: str | None = "200 Connection established"
    port: int = 0
    heads: list[bytes] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.heads.append(head)
            if self.status is None:
                while await reader.read(65536):
                    pass
                return
            if not self.status.startswith("200"):
                writer.write(f"HTTP/1.1 {self.status}\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
                return
            host, _, port = head.split(b"\r\n", 1)[0].split(b" ")[1].decode().rpartition(":")
            far_reader, far_writer = await asyncio.open_connection(host.strip("[]"), int(port))
            self.writers.append(far_writer)
            writer.write(f"HTTP/1.1 {self.status}\r\n\r\n".encode())
            await writer.drain()
            await asyncio.gather(_pipe(reader, far_writer), _pipe(far_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def auth(self, index: int = 0) -> str | None:
        """The ``Proxy-Authorization`` of the ``index``-th CONNECT, if it had one."""
        for line in self.heads[index].decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "proxy-authorization":
                return value.strip()
        return None


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()


@contextlib.asynccontextmanager
async def proxying(status: str | None = "200 Connection established") -> AsyncIterator[ConnectProxy]:
    """A ``ConnectProxy`` on 127.0.0.1 (an ephemeral port) for the block."""
    proxy = ConnectProxy(status)
    listening = await asyncio.start_server(proxy._handle, "127.0.0.1", 0)
    proxy.port = listening.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        listening.close()
        for writer in proxy.writers:
            writer.close()
        await listening.wait_closed()


def which_connection(peer: Peer, _request: bytes) -> bytes:
    return answer(str(peer.index).encode())


def tunnelled(
    origin: str,
    proxy: str,
    *,
    max_connections: int = 1,
    connect_timeout_s: float = 2,
    ssl_context: ssl.SSLContext | None = None,
) -> H1Pool:
    """A pool to ``origin`` whose connections go through the proxy at ``proxy``."""
    return H1Pool(
        Origin.parse(origin),
        max_connections=max_connections,
        connect_timeout_s=connect_timeout_s,
        read_timeout_s=5,
        ssl_context=ssl_context,
        proxy=Proxy.parse(proxy),
    )


async def body_of(pool: H1Pool) -> bytes:
    reply = await pool.request(pool.origin.head("POST", "/v1/x", {}), b"{}")
    try:
        return await reply.read()
    finally:
        reply.release()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


def tls_server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(*certificate)
    return served


async def test_an_https_origin_is_reached_through_one_tunnel(certificate: tuple[Path, Path]) -> None:
    """Through the proxy: one CONNECT host:port with Host and Basic credentials, TLS inside, reused for a second request.

    The credentials (percent-decoded from the URL) go to the proxy only, never to the origin.
    """
    async with (
        scripted(keep_answering(which_connection), tls=tls_server_context(certificate)) as server,
        proxying() as proxy,
    ):
        url = proxy.url.replace("http://", "http://agent:p%40ss@")
        trusting = ssl.create_default_context(cafile=str(certificate[0]))
        pool = tunnelled(server.url, url, max_connections=2, ssl_context=trusting)
        assert [await body_of(pool), await body_of(pool)] == [b"0", b"0"]
        target = f"127.0.0.1:{server.port}"
        assert len(proxy.heads) == 1
        assert proxy.heads[0].startswith(f"CONNECT {target} HTTP/1.1\r\n".encode())
        assert f"Host: {target}\r\n".encode() in proxy.heads[0]
        assert proxy.auth() == "Basic " + base64.b64encode(b"agent:p@ss").decode()
        assert server.connections == 1
        assert all(b"proxy-authorization" not in r.lower() for r in server.requests)
        assert server.requests[0].startswith(b"POST /v1/x HTTP/1.1\r\n")
        await pool.close()


async def test_an_http_origin_is_tunnelled_too() -> None:
    """An http origin goes through a CONNECT tunnel as well: origin-form requests, no credentials without any in the URL."""
    async with scripted(keep_answering(which_connection)) as server, proxying() as proxy:
        pool = tunnelled(server.url, proxy.url, max_connections=2)
        assert [await body_of(pool), await body_of(pool)] == [b"0", b"0"]
        assert len(proxy.heads) == 1
        assert proxy.heads[0].startswith(f"CONNECT 127.0.0.1:{server.port} HTTP/1.1\r\n".encode())
        assert proxy.auth() is None
        assert server.requests[0].startswith(b"POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:")
        await pool.close()


async def test_a_refused_tunnel_is_connect_failed_naming_the_status() -> None:
    """A 407 to CONNECT is ConnectFailed naming the status; nothing reaches the origin and the slot is free again."""
    async with (
        scripted(keep_answering(which_connection)) as server,
        proxying("407 Proxy Authentication Required") as proxy,
    ):
        pool = tunnelled(server.url.replace("http:", "https:"), proxy.url)
        with pytest.raises(ConnectFailed, match="407 Proxy Authentication Required"):
            await body_of(pool)
        assert pool.counts == (0, 0, 0)
        assert server.connections == 0
        await pool.close()


async def test_the_connect_timeout_covers_the_tunnel() -> None:
    """A proxy that accepts the socket but never answers CONNECT: ConnectTimeout, and the slot is free again."""
    async with proxying(None) as proxy:
        pool = tunnelled("https://127.0.0.1:9", proxy.url, connect_timeout_s=0.2)
        with pytest.raises(ConnectTimeout, match="through proxy"):
            await body_of(pool)
        assert pool.counts == (0, 0, 0)
        await pool.close()


async def test_an_untrusted_origin_behind_the_proxy_is_connect_failed(certificate: tuple[Path, Path]) -> None:
    """The TLS inside the tunnel checks the origin's certificate as a direct connection does."""
    async with (
        scripted(keep_answering(which_connection), tls=tls_server_context(certificate)) as server,
        proxying() as proxy,
    ):
        pool = tunnelled(server.url, proxy.url)
        with pytest.raises(ConnectFailed):
            await body_of(pool)
        assert server.requests == []
        assert pool.counts == (0, 0, 0)
        await pool.close()


async def test_an_upstream_behind_a_refusing_proxy_is_unavailable() -> None:
    """HttpUpstream maps the refused tunnel to UpstreamUnavailable (reason connect), after its retry."""
    async with proxying("407 Proxy Authentication Required") as proxy:
        config = UpstreamConfig.model_validate(
            {"kind": UpstreamKind.MISTRAL, "base_url": "https://127.0.0.1:9", "retries": 1, "proxy": proxy.url}
        )
        (upstream,) = build_upstreams(_gateway(config), {}).values()
        assert isinstance(upstream, HttpUpstream)
        await upstream.start()
        try:
            with pytest.raises(UpstreamUnavailable) as info:
                await upstream.complete(dict(PAYLOAD), request_id="r")
        finally:
            await upstream.close()
        assert info.value.reason == "connect"
        assert len(proxy.heads) == 2


def _gateway(*upstreams: UpstreamConfig) -> GatewayConfig:
    """A config with the given upstreams (``up0``, ``up1`` …) and one agent on the first."""
    agent = {"candidate": {"model": "c", "upstream": "up0"}, "baseline": {"model": "b", "upstream": "up0"}}
    return GatewayConfig.model_validate(
        {"upstreams": {f"up{i}": u.model_dump() for i, u in enumerate(upstreams)}, "agents": {"support_agent": agent}}
    )


def proxies_of(env: dict[str, str], *base_urls: str, proxy: str | None = None) -> list[str | None]:
    """The proxy (``host:port``, or None) each upstream at ``base_urls`` gets from ``env``."""
    configs = [UpstreamConfig(kind=UpstreamKind.OPENAI, base_url=url, proxy=proxy) for url in base_urls]
    built = build_upstreams(_gateway(*configs), env)
    chosen = []
    for upstream in built.values():
        assert isinstance(upstream, HttpUpstream)
        chosen.append(None if upstream.proxy is None else upstream.proxy.authority)
    return chosen


def test_the_proxy_comes_from_the_environment_by_scheme() -> None:
    """https upstreams take HTTPS_PROXY, http ones HTTP_PROXY; the lower-case variable first; none: direct."""
    env = {"HTTPS_PROXY": "http://sec:3128", "HTTP_PROXY": "http://plain:8080"}
    assert proxies_of(env, "https://api.mistral.ai", "http://vllm:8000") == ["sec:3128", "plain:8080"]
    assert proxies_of({"HTTPS_PROXY": "http://sec:3128"}, "http://vllm:8000") == [None]
    assert proxies_of({"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"}, "https://a.b") == ["lower:1"]
    assert proxies_of({"https_proxy": "", "HTTPS_PROXY": "http://upper:2"}, "https://a.b") == ["upper:2"]
    assert proxies_of({"HTTPS_PROXY": "sec:3128"}, "https://a.b") == ["sec:3128"]
    assert proxies_of({}, "https://api.mistral.ai") == [None]


def test_credentials_in_the_environment_reach_the_proxy_only_as_basic() -> None:
    """user:pass in HTTPS_PROXY become Proxy-Authorization: Basic; the proxy's repr does not show them."""
    configs = [UpstreamConfig(kind=UpstreamKind.OPENAI, base_url="https://a.b")]
    (upstream,) = build_upstreams(_gateway(*configs), {"HTTPS_PROXY": "http://u:s3cret@sec:3128"}).values()
    assert isinstance(upstream, HttpUpstream) and upstream.proxy is not None
    assert upstream.proxy.authorization == "Basic " + base64.b64encode(b"u:s3cret").decode()
    assert "s3cret" not in repr(upstream.proxy)


def test_no_proxy_leaves_matching_hosts_direct() -> None:
    """A host NO_PROXY lists (or a domain above it, or *) goes direct; others still use the proxy."""
    env = {"HTTPS_PROXY": "http://sec:3128", "HTTP_PROXY": "http://plain:8080"}
    urls = ("https://api.mistral.ai", "http://127.0.0.1:8000", "http://vllm:8000")
    assert proxies_of({**env, "NO_PROXY": "mistral.ai, 127.0.0.1"}, *urls) == [None, None, "plain:8080"]
    assert proxies_of({**env, "no_proxy": "*"}, *urls) == [None, None, None]
    assert proxies_of({**env, "NO_PROXY": "vllm"}, *urls) == ["sec:3128", None, None]


def test_a_loopback_upstream_never_takes_the_environments_proxy() -> None:
    """localhost, 127.0.0.0/8 and ::1 go direct whatever HTTP(S)_PROXY says (the proxy's loopback is its own);
    a proxy set on the upstream itself still applies."""
    env = {"HTTPS_PROXY": "http://sec:3128", "HTTP_PROXY": "http://plain:8080"}
    loopbacks = (
        "http://127.0.0.1:8000",
        "https://localhost",
        "http://[::1]:8000",
        "http://127.9.9.9",
        "http://a.localhost",
    )
    assert proxies_of(env, *loopbacks) == [None] * len(loopbacks)
    assert proxies_of(env, "http://127.0.0.1:8000", proxy="http://mine:9000") == ["mine:9000"]


def test_a_configured_proxy_wins_over_the_environment() -> None:
    """The upstream's own proxy is used whatever HTTPS_PROXY and NO_PROXY say."""
    env = {"HTTPS_PROXY": "http://sec:3128", "NO_PROXY": "*"}
    assert proxies_of(env, "https://api.mistral.ai", proxy="http://mine:9000") == ["mine:9000"]


def test_a_bad_proxy_in_the_environment_names_the_variable() -> None:
    """An https:// proxy in HTTPS_PROXY is a ConfigError naming the upstream and the variable."""
    with pytest.raises(ConfigError, match=r"upstreams\.up0: environment variable HTTPS_PROXY.*http://"):
        proxies_of({"HTTPS_PROXY": "https://sec:3128"}, "https://api.mistral.ai")


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "matches"),
    [
        ("*", "api.mistral.ai", 443, True),
        ("mistral.ai", "api.mistral.ai", 443, True),
        (".mistral.ai", "api.mistral.ai", 443, True),
        (".mistral.ai", "mistral.ai", 443, True),
        ("mistral.ai", "notmistral.ai", 443, False),
        ("API.Mistral.AI", "api.mistral.ai", 443, True),
        ("other, , api.mistral.ai:443", "api.mistral.ai", 443, True),
        ("api.mistral.ai:8443", "api.mistral.ai", 443, False),
        ("127.0.0.1", "127.0.0.1", 8000, True),
        ("0.0.1", "127.0.0.1", 8000, False),
        ("localhost", "127.0.0.1", 8000, False),
        ("10.0.0.0/8", "10.1.2.3", 80, False),
        ("::1", "::1", 8000, True),
        ("[::1]:8000", "::1", 8000, True),
        ("[::1]:9000", "::1", 8000, False),
        ("", "api.mistral.ai", 443, False),
    ],
)
def test_no_proxy_entries(no_proxy: str, host: str, port: int, matches: bool) -> None:
    """NO_PROXY: * for all, hosts and domain suffixes (a leading dot optional), an optional :port, IPs exactly."""
    assert no_proxy_matches(no_proxy, host, port) is matches


@pytest.mark.parametrize(
    "url", ["https://sec:3128", "socks5://sec:1080", "http://sec", "http://:3128", "sec:3128", "http://sec:port"]
)
def test_the_config_accepts_only_http_proxy_urls_with_a_host_and_port(url: str) -> None:
    """upstreams.X.proxy must be http://[user:pass@]host:port: anything else fails naming the field."""
    text = f"""
upstreams:
  up: {{kind: openai, base_url: "https://a.b", proxy: "{url}"}}
agents:
  support_agent:
    candidate: {{model: c, upstream: up}}
    baseline: {{model: b, upstream: up}}
"""
    with pytest.raises(ConfigError, match=r"upstreams\.up\.proxy: .*http://\[user:pass@\]host:port"):
        parse_config(text, env={})
    good = text.replace(url, "http://user:pass@sec:3128")
    assert parse_config(good, env={}).upstreams["up"].proxy == "http://user:pass@sec:3128"
