"""Builds one upstream per configured entry, choosing its implementation once, at start."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

from gateway.settings import ConfigError, GatewayConfig, UpstreamConfig, UpstreamKind
from gateway.upstream.base import Upstream
from gateway.upstream.http import HttpUpstream
from gateway.upstream.pool import Origin, Proxy
from gateway.upstream.simulated import SimulatedUpstream


def build_upstreams(config: GatewayConfig, env: Mapping[str, str] | None = None) -> dict[str, Upstream]:
    """The upstreams of the config; keys and proxies are read from the environment here, never from the file."""
    environ = os.environ if env is None else env
    upstreams: dict[str, Upstream] = {}
    for name, cfg in config.upstreams.items():
        if cfg.kind is UpstreamKind.SIMULATED:
            upstreams[name] = SimulatedUpstream(name, cfg.simulator)
            continue
        key = environ.get(cfg.api_key_env) if cfg.api_key_env else None
        if cfg.api_key_env and not key and cfg.kind is UpstreamKind.MISTRAL:
            raise ConfigError(f"upstreams.{name}.api_key_env: environment variable {cfg.api_key_env} is not set")
        upstreams[name] = HttpUpstream(name, cfg, key, proxy=_proxy(name, cfg, environ))
    return upstreams


def _proxy(name: str, cfg: UpstreamConfig, environ: Mapping[str, str]) -> Proxy | None:
    """The upstream's ``proxy`` if set, else the environment's proxy for its scheme unless ``NO_PROXY`` lists its host.

    As curl and urllib do: the lower-case variable first (``https_proxy``, then ``HTTPS_PROXY``), an
    empty one counts as unset, and a value without a scheme is taken as ``http://``. As Go's
    ``ProxyFromEnvironment`` does, a loopback upstream (``localhost``, ``127.0.0.0/8``, ``::1``) never
    takes the environment's proxy: the proxy's own loopback is not this machine's.
    """
    if cfg.proxy is not None:
        where, url = f"upstreams.{name}.proxy", cfg.proxy
    else:
        origin = Origin.parse(cfg.base_url or "")
        found = _first_set(environ, f"{origin.scheme}_proxy", f"{origin.scheme.upper()}_PROXY")
        if found is None or _is_loopback(origin.host):
            return None
        variable, url = found
        exempt = _first_set(environ, "no_proxy", "NO_PROXY")
        if exempt is not None and no_proxy_matches(exempt[1], origin.host, origin.port):
            return None
        where = f"upstreams.{name}: environment variable {variable}"
        url = url if "://" in url else f"http://{url}"
    try:
        return Proxy.parse(url)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _first_set(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for variable in names:
        if value := environ.get(variable, "").strip():
            return variable, value
    return None


def no_proxy_matches(no_proxy: str, host: str, port: int) -> bool:
    """Whether a ``NO_PROXY`` value leaves ``host:port`` out of the proxy.

    Comma-separated entries (blanks ignored, case-insensitive): ``*`` matches every host; ``name``
    or ``.name`` matches that host and every host below it (``mistral.ai`` matches
    ``api.mistral.ai``, never ``notmistral.ai``); an entry with ``:port`` matches only that port; an
    IPv6 address goes bare or in brackets (``::1``, ``[::1]:8000``) and an IP address matches only
    itself. IP ranges (CIDR) are not understood: such an entry matches nothing.
    """
    host = host.lower().strip("[]")
    literal = _is_address(host)  # an IP address matches only itself: 10.0.0.1 is not "below" 0.0.1
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if entry == "*":
            return True
        entry_port: int | None = None
        if entry.startswith("["):  # [v6] or [v6]:port
            entry, _, rest = entry[1:].partition("]")
            if rest:
                if not (rest.startswith(":") and rest[1:].isdigit()):
                    continue
                entry_port = int(rest[1:])
        elif entry.count(":") == 1:  # name:port (a bare v6 address has several colons)
            entry, _, digits = entry.partition(":")
            if not digits.isdigit():
                continue
            entry_port = int(digits)
        entry = entry.lstrip(".")
        if not entry or (entry_port is not None and entry_port != port):
            continue
        if host == entry or (not literal and host.endswith("." + entry)):
            return True
    return False


def _is_loopback(host: str) -> bool:
    host = host.lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
