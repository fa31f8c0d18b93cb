"""``/admin/experiments``: each agent's A/B comparison and verdict; promote or roll back its candidate.

Guarded like the rest of ``/admin/`` (``gateway.api.admin``): an admin token for reading, a
read-write one for promote and rollback, whose name is the actor in the flags' audit log. The
numbers are computed afresh from the results store on every request, so they never lag the
metrics' timer. Promote sets the candidate share to 100 %, rollback to 0 %; both stop a running
staged rollout and change nothing else (a killed agent stays killed).

Promote follows the analysis: unless the current verdict is ``promote`` it is refused with 409,
unless ``force`` is given (``?force=true`` or ``{"force": true}``), which the audit note records.
Rollback is always allowed: sending users back to the baseline is the safe direction.

``/admin/experiments/{agent}/samples`` lists the scored answers behind the numbers (content token),
from either home of the results store: what ``export samples --url`` reads.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.api.admin import _guard as admin_guard  # the one admin guard; reused, not rewritten
from gateway.errors import BadRequest, GatewayError, NotFound
from gateway.experiments.service import ExperimentReport, ExperimentService
from gateway.flags.model import AgentFlags
from gateway.sampling.record import ScoredSample
from gateway.state import state_of

_WRITE = {"admin_write": True}
"""The route option ``admin_guard`` reads to demand a read-write token."""
_CONTENT = {"admin_content": True}
"""The route option ``admin_guard`` reads to demand a token that may read prompts and answers."""


class AnalysisOff(GatewayError):
    """The gateway has no results store, so there is nothing to analyse."""

    status = 503
    type = "service_unavailable"


class VerdictDisagrees(GatewayError):
    """Promote asked while the verdict is not promote, without ``force``; nothing was changed."""

    status = 409
    type = "conflict"


class ActionOptions(BaseModel):
    """The optional body of promote and rollback."""

    model_config = ConfigDict(extra="forbid")

    force: bool = False
    """Promote even though the current verdict is not promote (recorded in the audit note)."""


class ExperimentList(BaseModel):
    """Every agent's experiment."""

    object: Literal["list"] = "list"
    data: list[ExperimentReport]


class SampleList(msgspec.Struct):
    """An agent's last scored answers, newest first (redacted when they were sampled)."""

    data: list[ScoredSample]
    object: str = "list"


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


@get("/{agent:str}/samples", summary="One agent's last scored answers", opt=_CONTENT)
async def samples(
    request: Request[Any, Any, Any], agent: FromPath[str], limit: FromQuery[int | None] = None
) -> SampleList:
    """The scored answers the results store keeps for the agent (``scoring.keep_last``, within
    ``scoring.retention_s``), newest first, each with its prompt, answer and scores: what
    ``genesis-gateway export samples --url`` turns into training data. Prompts and answers were
    redacted when they were sampled; reading them needs an admin token with access ``content``
    (or ``rw``): a read-only one gets 403."""
    state = state_of(request)
    if state.results is None:
        raise AnalysisOff("no scored samples: this gateway has no results store", code="analysis_off")
    if state.flags.get(agent) is None:
        raise NotFound(f"unknown agent {agent!r}", code="unknown_agent")
    if limit is not None and limit < 1:
        raise BadRequest("limit must be at least 1", code="invalid_limit")
    return SampleList(data=await state.results.recent(agent, limit=limit))


@post("/{agent:str}/promote", summary="Promote the candidate (share 100 %)", status_code=200, opt=_WRITE)
async def promote(
    request: Request[Any, Any, Any], agent: FromPath[str], force: FromQuery[bool] = False
) -> ExperimentAction:
    """Send every unit to the candidate when the current verdict is promote; otherwise 409 unless ``force``."""
    service, actor = _service(request), _actor(request)
    if force or await _forced(request):
        # Forced: no fresh analysis, so a results outage cannot block an operator who has decided.
        last = service.latest(agent)
        note = f"a/b: promote by {actor} (forced; last verdict: {last.verdict if last else 'unknown'})"
    else:
        report = await service.evaluate(agent)
        if report.verdict != "promote":
            raise VerdictDisagrees(
                f"the verdict for {agent!r} is {report.verdict!r}, not 'promote' ({'; '.join(report.reasons)}); "
                "promote anyway with force=true (CLI: --force)",
                code="verdict_disagrees",
            )
        note = f"a/b: promote by {actor} (verdict: promote)"
    flags = await service.promote(agent, actor=actor, note=note)
    return ExperimentAction(agent=agent, action="promote", actor=actor, flags=flags, last_report=service.latest(agent))


@post("/{agent:str}/rollback", summary="Roll the candidate back (share 0 %)", status_code=200, opt=_WRITE)
async def rollback(request: Request[Any, Any, Any], agent: FromPath[str]) -> ExperimentAction:
    """Send every unit to the baseline, whatever the verdict (the safe direction; ``force`` is not needed)."""
    service, actor = _service(request), _actor(request)
    await _forced(request)  # validates the body like promote's; rollback never needs force
    flags = await service.rollback(agent, actor=actor, note=f"a/b: rollback by {actor}")
    return ExperimentAction(agent=agent, action="rollback", actor=actor, flags=flags, last_report=service.latest(agent))


async def _forced(request: Request[Any, Any, Any]) -> bool:
    """``force`` from the optional JSON body; an empty body means no options."""
    raw = await request.body()
    if not raw.strip():
        return False
    try:
        return ActionOptions.model_validate_json(raw).force
    except ValidationError as exc:
        raise BadRequest(
            'the body of promote and rollback is optional; when given it is {"force": true|false}',
            code="invalid_body",
        ) from exc


def experiments_router() -> Router:
    """The experiment routes under ``/admin/experiments``, for ``create_app`` (a fresh router per app)."""
    return Router(
        "/admin/experiments",
        route_handlers=[list_experiments, show_experiment, samples, promote, rollback],
        guards=[admin_guard],
        security=[{"adminToken": []}],
        tags=["experiments"],
        include_in_schema=True,
    )
