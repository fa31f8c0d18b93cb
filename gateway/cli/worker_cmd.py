"""``genesis-gateway worker``: score sampled answers from the Redis stream (production).

Run any number of these beside the gateways (which, with ``redis_url``, only append samples to
the stream). Each process joins the consumer group under its own name, serves its metrics on
``--metrics-port`` (quality scores, judge spend, dead letters; the queue depth and lag gauges read
from Redis, identical on every worker — query them with ``max``), and stops cleanly on SIGTERM:
it finishes the sample in hand and leaves the rest pending for the others.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import structlog
import typer
from prometheus_client import CollectorRegistry, start_http_server

from gateway.logging import configure_logging
from gateway.sampling.factory import build_consumers, consumer_name, redis_client
from gateway.settings import ConfigError, GatewayConfig, load_config
from gateway.state import Service
from gateway.upstream.base import Upstream
from gateway.upstream.factory import build_upstreams

_log = structlog.get_logger("gateway.worker")


def worker(
    *,
    config: Annotated[Path, typer.Option("--config", "-c", envvar="GATEWAY_CONFIG", help="The YAML config file.")],
    redis_url: Annotated[str | None, typer.Option(envvar="GATEWAY_REDIS_URL", help="Overrides redis_url.")] = None,
    redis_prefix: Annotated[
        str | None, typer.Option(envvar="GATEWAY_REDIS_PREFIX", help="Overrides redis_prefix (as the gateway does).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Consumer name in the group (default: host-pid).")] = None,
    metrics_port: Annotated[int, typer.Option(envvar="GATEWAY_METRICS_PORT", help="Port of /metrics.")] = 9464,
    metrics_host: Annotated[str, typer.Option(envvar="GATEWAY_METRICS_HOST", help="Address of /metrics.")] = "0.0.0.0",
    log_level: Annotated[str, typer.Option(envvar="GATEWAY_LOG_LEVEL", help="debug, info, warning or error.")] = "info",
) -> None:
    """Score sampled answers from the Redis stream (production; the gateway only enqueues)."""
    configure_logging("auto", log_level)
    try:
        loaded = load_config(config).with_redis_prefix(redis_prefix)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    url = redis_url or loaded.redis_url
    if not url:
        typer.echo("error: the worker consumes the Redis stream: set redis_url or GATEWAY_REDIS_URL", err=True)
        raise typer.Exit(2)
    registry = CollectorRegistry()
    server, thread = start_http_server(metrics_port, addr=metrics_host, registry=registry)
    try:
        asyncio.run(run_worker(loaded, url, registry, name=name or consumer_name()))
    finally:
        server.shutdown()
        thread.join(timeout=5)


async def run_worker(config: GatewayConfig, redis_url: str, registry: CollectorRegistry, *, name: str) -> None:
    """Consume until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    redis = redis_client(redis_url, config.scoring)
    upstreams = _judge_upstreams(config)
    started: list[Service] = []
    try:
        for upstream in upstreams.values():
            await upstream.start()
        for service in build_consumers(config, redis, registry, upstreams, name=name):
            await service.start()
            started.append(service)
        _log.info("worker started", consumer=name, stream=config.scoring.key_prefix + config.scoring.stream)
        await stop.wait()
    finally:
        for service in reversed(started):
            await service.close()
        for upstream in upstreams.values():
            await upstream.close()
        await redis.aclose()
        _log.info("worker stopped", consumer=name)


def _judge_upstreams(config: GatewayConfig) -> dict[str, Upstream]:
    judge = config.scoring.judge
    if not judge.enabled or judge.upstream is None:
        return {}
    only = config.model_copy(update={"upstreams": {judge.upstream: config.upstreams[judge.upstream]}})
    return build_upstreams(only)
