"""The app factory: builds every collaborator once, wires the routes, opens and closes them."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar, Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from prometheus_client import CollectorRegistry

from gateway import __version__
from gateway.api.admin import ADMIN_COMPONENTS, admin_router
from gateway.api.chat import ChatFastPath, chat_completions, document_chat
from gateway.api.experiments import experiments_router
from gateway.api.feedback import submit_feedback
from gateway.api.health import healthz, metrics, readyz
from gateway.api.models import list_models
from gateway.auth import KeyRing
from gateway.errors import GatewayError, NotFound
from gateway.exchange import Observer, SampleSink
from gateway.experiments.service import ExperimentService
from gateway.flags.access import AdminTokens
from gateway.flags.backend import open_flag_home
from gateway.flags.health import RedisHealth
from gateway.flags.monitor import FlagMonitor
from gateway.flags.rollout import RolloutController, RolloutGate
from gateway.flags.store import FlagStore
from gateway.metrics import BackgroundMetrics, ExperimentMetrics, FlagMetrics, TrafficMetrics
from gateway.proxy import ChatProxy, request_id
from gateway.routing.table import RouteTable
from gateway.sampling.factory import build_scoring
from gateway.settings import GatewayConfig, Settings
from gateway.state import GatewayState, app_state
from gateway.upstream.base import Upstream
from gateway.upstream.factory import build_upstreams

_log = structlog.get_logger("gateway")


def build_state(
    settings: Settings,
    config: GatewayConfig,
    *,
    upstreams: dict[str, Upstream] | None = None,
    flags: FlagStore | None = None,
    registry: CollectorRegistry | None = None,
    sink: SampleSink | None = None,
    env: Mapping[str, str] | None = None,
    rollout_gate: RolloutGate | None = None,
) -> GatewayState:
    """Every collaborator of one gateway process; each may be injected (tests, embedded setups)."""
    environ = os.environ if env is None else env
    config = config.with_redis_prefix(settings.redis_prefix)
    upstreams = upstreams if upstreams is not None else build_upstreams(config, environ)
    registry = registry if registry is not None else CollectorRegistry()
    flag_metrics = FlagMetrics(registry)
    health = RedisHealth(flag_metrics.redis_error)
    background = BackgroundMetrics(registry)
    home = open_flag_home(
        config,
        redis_url=settings.redis_url or config.redis_url,
        prefix=config.redis_prefix,
        health=health,
        store=flags,
        errors=background,
    )
    flags = home.store
    metrics = TrafficMetrics(registry)
    routes = RouteTable(config, upstreams)
    keys = KeyRing(config.auth, environ)
    scoring = build_scoring(
        config,
        registry,
        upstreams,
        redis_url=settings.redis_url or config.redis_url,
        health=health,
        tallies=metrics.tallies,
    )
    observer = Observer(metrics, sink if sink is not None else scoring.sink, remember=scoring.index.remember)
    proxy = ChatProxy(
        routes=routes,
        flags=flags,
        keys=keys,
        observer=observer,
        metrics=metrics,
        counter=home.counter,
        keepalive_s=config.sse_keepalive_s,
    )
    state = GatewayState(
        settings=settings,
        config=config,
        upstreams=upstreams,
        routes=routes,
        flags=flags,
        keys=keys,
        registry=registry,
        metrics=metrics,
        proxy=proxy,
        services=list(scoring.services),
        results=scoring.results,
        feedback=scoring.feedback,
        assignments=home.counter,
        admin_tokens=AdminTokens.from_env(settings.admin_token, settings.admin_tokens),
        flag_metrics=flag_metrics,
    )
    state.probes.update(home.probes)
    if state.results is not None:
        state.experiments = ExperimentService(
            state.results, flags, config.experiments, ExperimentMetrics(registry), errors=background
        )
    state.services += [
        home.counter,
        FlagMonitor(flags, home.counter, flag_metrics, errors=background),
        RolloutController(flags, home.lock, rollout_gate or state.experiments, errors=background),
    ]
    if state.experiments is not None:
        state.services.append(state.experiments)
    return state


def create_app(state: GatewayState, *, on_startup: Sequence[Callable[[], None]] = ()) -> ChatFastPath:
    """The ASGI app serving ``state``: the Litestar app, with chat requests taken straight to their route
    (``ChatFastPath``); ``on_startup`` runs once the app has started, before it serves."""
    app = Litestar(
        route_handlers=[
            chat_completions,
            submit_feedback,
            list_models,
            healthz,
            readyz,
            metrics,
            admin_router(),
            experiments_router(),
        ],
        lifespan=[_lifespan],
        exception_handlers={GatewayError: _gateway_error, HTTPException: _http_error, Exception: _unexpected},
        request_max_body_size=state.config.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Genesis Gateway", version=__version__, path="/schema", components=ADMIN_COMPONENTS
        ),
        state=State({"gateway": state}),
        debug=False,
        logging_config=None,
        on_startup=list(on_startup),
    )
    document_chat(app)
    return ChatFastPath(app)


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    state = app_state(app)
    for upstream in state.upstreams.values():
        await upstream.start()
    await state.flags.start()
    for service in state.services:
        await service.start()
    state.started, state.started_at = True, time.time()
    _log.info("gateway started", agents=sorted(state.routes.agents), upstreams=sorted(state.upstreams))
    try:
        yield
    finally:
        state.started = False
        for service in reversed(state.services):
            await service.close()
        await state.flags.close()
        for upstream in state.upstreams.values():
            await upstream.close()
        state.metrics.tallies.flush()  # the last second's counts, for the multiprocess files


def _error_response(err: GatewayError) -> Response[bytes]:
    return Response(err.body(), status_code=err.status, media_type="application/json", headers=err.headers)


def _gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[bytes]:
    if "x-request-id" not in exc.headers:  # raised outside the proxy, which sets it
        exc.headers["x-request-id"] = request_id(request.headers)
    return _error_response(exc)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """Framework errors (unknown path, wrong method, body too large) in the Mistral shape."""
    err = GatewayError(str(exc.detail), code=None)
    err.status = exc.status_code
    err.type = _TYPES.get(exc.status_code, "invalid_request_error")
    if exc.status_code == 404 and request.url.path.startswith("/v1/v1/"):
        err = NotFound(
            f"no route {request.url.path}: the mistralai SDK's server_url must not end in /v1 "
            "(use the gateway's root URL)",
            code="not_found",
        )
    elif exc.status_code == 413:
        err.message = "request body is larger than the gateway accepts (max_body_bytes)"
    err.headers.update(exc.headers or {})  # e.g. Allow on a 405
    err.headers["x-request-id"] = request_id(request.headers)  # these never reach the proxy, which sets it
    return _error_response(err)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    _log.exception("unhandled error", error_type=type(exc).__name__)
    err = GatewayError("internal error in the gateway", code="internal")
    err.headers["x-request-id"] = request_id(request.headers)
    return _error_response(err)


_TYPES = {
    400: "invalid_request_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "rate_limited",
}
