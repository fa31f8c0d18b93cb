"""``serve`` (production, from a config file) and ``demo`` (embedded, nothing to install)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from gateway.app import build_state, create_app
from gateway.demo import TrafficGenerator, banner, demo_config, demo_log_level
from gateway.logging import configure_logging
from gateway.runtime import tune_gc
from gateway.settings import ConfigError, Settings, load_config


def serve(
    config: Annotated[Path, typer.Option("--config", "-c", envvar="GATEWAY_CONFIG", help="The YAML config file.")],
    host: Annotated[str, typer.Option(envvar="GATEWAY_HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="GATEWAY_PORT", help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(envvar="GATEWAY_WORKERS", min=1, help="Worker processes (one per core).")] = 1,
) -> None:
    """Serve the gateway from a YAML config (upstreams, agents, prices)."""
    try:
        load_config(config)  # fail here, with the bad field named, rather than in every worker
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    os.environ["GATEWAY_CONFIG"] = str(config.resolve())
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every worker writes its metrics here and /metrics merges them (gateway.metrics).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="genesis-metrics-")
    # exec, not uvicorn.run(): the server process (and with --workers, the supervisor and each
    # worker) then holds only the app, not every CLI command's imports — 12 MB less resident
    # memory per process (docs/performance.md). Same process id.
    sys.stdout.flush()
    sys.stderr.flush()
    if workers > 1:  # one SO_REUSEPORT socket per worker (gateway.supervise), not uvicorn's shared one
        os.execv(
            sys.executable,
            [sys.executable, "-m", "gateway.supervise", f"--host={host}", f"--port={port}", f"--workers={workers}"],
        )
    os.execv(sys.executable, [sys.executable, "-m", "gateway.serving", f"--host={host}", f"--port={port}"])


def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    rate: Annotated[float, typer.Option(help="Demo requests per second; 0 for none.", min=0)] = 5.0,
) -> None:
    """Run the embedded demo: five agents on the built-in simulator, in-memory state, live traffic."""
    settings = Settings(host=host, port=port)
    configure_logging(settings.log_format, demo_log_level(settings))
    state = build_state(settings, demo_config())
    if rate > 0:
        state.services.append(TrafficGenerator(f"http://{host}:{port}", rate_per_s=rate))
    typer.echo(banner(host, port))
    app = create_app(state, on_startup=[tune_gc])
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    )
    asyncio.run(server.serve())
