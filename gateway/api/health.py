"""Liveness, readiness and the Prometheus endpoint."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from gateway.metrics import render_metrics
from gateway.state import state_of


@get("/healthz", summary="Alive", include_in_schema=True)
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/readyz", summary="Ready to serve", include_in_schema=True)
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Config loaded, upstream pools open, and the shared store reachable when one is configured."""
    state = state_of(request)
    checks: dict[str, bool] = {"config": True, "started": state.started}
    for name, upstream in state.upstreams.items():
        checks[f"upstream:{name}"] = upstream.ready
    for name, probe in state.probes.items():
        checks[name] = bool(await probe())
    ok = all(checks.values())
    return Response({"status": "ok" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)


@get("/metrics", summary="Prometheus metrics", include_in_schema=True)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Every metric of this process (or of all workers, in multiprocess mode)."""
    state = state_of(request)
    state.metrics.tallies.flush()  # multiprocess mode reads the shared files, not this registry
    body, content_type = render_metrics(state.registry)
    return Response(body, media_type=content_type)
