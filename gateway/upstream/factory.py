"""Builds one upstream per configured entry, choosing its implementation once, at start."""

from __future__ import annotations

import os
from collections.abc import Mapping

from gateway.settings import ConfigError, GatewayConfig, UpstreamKind
from gateway.upstream.base import Upstream
from gateway.upstream.http import HttpUpstream
from gateway.upstream.simulated import SimulatedUpstream


def build_upstreams(config: GatewayConfig, env: Mapping[str, str] | None = None) -> dict[str, Upstream]:
    """The upstreams of the config; keys are read from the environment here, never from the file."""
    environ = os.environ if env is None else env
    upstreams: dict[str, Upstream] = {}
    for name, cfg in config.upstreams.items():
        if cfg.kind is UpstreamKind.SIMULATED:
            upstreams[name] = SimulatedUpstream(name, cfg.simulator)
            continue
        key = environ.get(cfg.api_key_env) if cfg.api_key_env else None
        if cfg.api_key_env and not key and cfg.kind is UpstreamKind.MISTRAL:
            raise ConfigError(f"upstreams.{name}.api_key_env: environment variable {cfg.api_key_env} is not set")
        upstreams[name] = HttpUpstream(name, cfg, key)
    return upstreams
