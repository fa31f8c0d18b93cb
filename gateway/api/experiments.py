"""``/admin/experiments``: each agent's A/B comparison and verdict; promote or roll back its candidate.

Guarded like the rest of ``/admin/`` (``gateway.api.admin``): an admin token for reading, a
read-write one for promote and rollback, whose name is the actor in the flags' audit log. The
numbers are computed afresh from the results store on every request, so they never lag the
metrics' timer. Promote sets the candidate share to 100 %, rollback to 0 %; both stop a running
staged rollout and change nothing else (a killed agent stays killed).
"""

from __future__ import annotations

from typing import Any, Literal

from litestar import Request, Router, get, post
from litestar.params import FromPath
from pydantic import BaseModel

from gateway.api.admin import _guard as admin_guard  # the one admin guard; reused, not rewritten
from gateway.errors import GatewayError
from gateway.experiments.service import ExperimentReport, ExperimentService
from gateway.flags.model import AgentFlags
from gateway.state import state_of

_WRITE = {"admin_write": True}
"""The route option ``admin_guard`` reads to demand a read-write token."""


class AnalysisOff(GatewayError):
    """The gateway has no results store, so there is nothing to analyse."""

    status = 503
    type = "service_unavailable"


class ExperimentList(BaseModel):
    """Every agent's experiment."""

    object: Literal["list"] = "list"
    data: list[ExperimentReport]


class ExperimentAction(BaseModel):
    """What promote or rollback did: the agent's new flags, and the last timed analysis it overrode or followed."""

    agent: str
    action: Literal["promote", "rollback"]
    actor: str
    flags: AgentFlags
    last_report: ExperimentReport | None
    """From the service's last pass (no store read, so a results outage cannot block a rollback)."""


def _service(request: Request[Any, Any, Any]) -> ExperimentService:
    service = state_of(request).experiments
    if service is None:
        raise AnalysisOff("the A/B analysis is off: this gateway has no results store", code="analysis_off")
    return service


def _actor(request: Request[Any, Any, Any]) -> str:
    return state_of(request).admin_tokens.authenticate(request.headers.get("authorization")).name


@get("/", summary="Every agent's A/B comparison and verdict")
async def list_experiments(request: Request[Any, Any, Any]) -> ExperimentList:
    """Per agent: samples per arm, the verdict with its reasons, and what a staged rollout would do."""
    return ExperimentList(data=await _service(request).evaluate_all())


@get("/{agent:str}", summary="One agent's A/B comparison")
async def show_experiment(request: Request[Any, Any, Any], agent: FromPath[str]) -> ExperimentReport:
    """Per dimension (overall, pass rate, each scorer): candidate − baseline, interval, p-value, n per arm; the verdict."""
    return await _service(request).evaluate(agent)


@post("/{agent:str}/promote", summary="Promote the candidate (share 100 %)", status_code=200, opt=_WRITE)
async def promote(request: Request[Any, Any, Any], agent: FromPath[str]) -> ExperimentAction:
    """Send every unit to the candidate, whatever the verdict says (the reply carries the last one)."""
    service, actor = _service(request), _actor(request)
    flags = await service.promote(agent, actor=actor)
    return ExperimentAction(agent=agent, action="promote", actor=actor, flags=flags, last_report=service.latest(agent))


@post("/{agent:str}/rollback", summary="Roll the candidate back (share 0 %)", status_code=200, opt=_WRITE)
async def rollback(request: Request[Any, Any, Any], agent: FromPath[str]) -> ExperimentAction:
    """Send every unit to the baseline; counted in ``genesis_ab_rollbacks_total``."""
    service, actor = _service(request), _actor(request)
    flags = await service.rollback(agent, actor=actor, note=f"a/b: rollback by {actor}")
    return ExperimentAction(agent=agent, action="rollback", actor=actor, flags=flags, last_report=service.latest(agent))


def experiments_router() -> Router:
    """The experiment routes under ``/admin/experiments``, for ``create_app`` (a fresh router per app)."""
    return Router(
        "/admin/experiments",
        route_handlers=[list_experiments, show_experiment, promote, rollback],
        guards=[admin_guard],
        security=[{"adminToken": []}],
        tags=["experiments"],
        include_in_schema=True,
    )
