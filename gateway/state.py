"""The collaborators one gateway process works with, built once by the app factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from litestar import Litestar, Request
from prometheus_client import CollectorRegistry

from gateway.auth import KeyRing
from gateway.experiments.service import ExperimentService
from gateway.flags.access import AdminTokens
from gateway.flags.counts import AssignmentCounter, MemoryAssignmentCounter
from gateway.flags.store import FlagStore
from gateway.metrics import FlagMetrics, TrafficMetrics
from gateway.proxy import ChatProxy
from gateway.routing.table import RouteTable
from gateway.sampling.feedback import FeedbackDesk
from gateway.sampling.results import ScoreStore
from gateway.settings import GatewayConfig, Settings
from gateway.upstream.base import Upstream

Probe = Callable[[], Awaitable[bool]]


class Service(Protocol):
    """A background part (flag sync, scoring worker, rollout controller) opened with the app."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class GatewayState:
    """Everything the routes need; opened and closed by the app's lifespan."""

    settings: Settings
    config: GatewayConfig
    upstreams: dict[str, Upstream]
    routes: RouteTable
    flags: FlagStore
    keys: KeyRing
    registry: CollectorRegistry
    metrics: TrafficMetrics
    proxy: ChatProxy
    started: bool = False
    started_at: float = 0.0
    services: list[Service] = field(default_factory=list)
    """Opened after the upstreams and flags, closed before them, in order."""
    probes: dict[str, Probe] = field(default_factory=dict)
    """Extra readiness checks by name (``redis``, ...)."""
    assignments: AssignmentCounter = field(default_factory=MemoryAssignmentCounter)
    """Assignment counts per agent, phase and variant (the SRM check's data)."""
    admin_tokens: AdminTokens = field(default_factory=lambda: AdminTokens({}))
    """Who may use ``/admin/``; none configured means the admin API refuses everyone."""
    flag_metrics: FlagMetrics | None = None
    results: ScoreStore | None = None
    """Scored samples and A/B moments (online scoring); the A/B analysis reads ``stats`` from it."""
    feedback: FeedbackDesk | None = None
    """Attributes and counts user ratings (``POST /v1/feedback``)."""
    experiments: ExperimentService | None = None
    """The A/B analysis (``/admin/experiments``, the rollout gate); present whenever ``results`` is."""


def state_of(request: Request[Any, Any, Any]) -> GatewayState:
    """The gateway state of the app serving ``request``."""
    return cast(GatewayState, request.app.state.gateway)


def app_state(app: Litestar) -> GatewayState:
    """The gateway state of ``app``."""
    return cast(GatewayState, app.state.gateway)
