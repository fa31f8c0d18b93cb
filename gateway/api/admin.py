"""``/admin/``: read and change agents' flags, schedules, the audit log and the assignment counts.

Every route needs an admin token (``Authorization: Bearer``; see ``gateway.flags.access``): 401
without one or with an unknown one, 403 when a read-only token tries a write. The token's name is
the actor in the audit log. Bad input (a share outside 0–100, an unknown agent, a malformed
schedule) is answered with a 4xx in the Mistral error shape and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from gateway.errors import BadRequest
from gateway.flags.access import Admin
from gateway.flags.model import MAX_OVERRIDES, AgentFlags, AuditEntry, FlagChange
from gateway.flags.schedule import RolloutRequest
from gateway.flags.service import AssignmentReport, FlagService
from gateway.proxy import request_id
from gateway.settings import Variant
from gateway.state import state_of

_WRITE = {"admin_write": True}
_SECURITY_SCHEME = "adminToken"

ADMIN_COMPONENTS = Components(
    security_schemes={
        _SECURITY_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="An admin token from GATEWAY_ADMIN_TOKEN or GATEWAY_ADMIN_TOKENS (not an agent key).",
        )
    }
)
"""The OpenAPI security scheme the admin routes declare; the app factory adds it to the schema."""

UnitId = str


class FlagUpdate(BaseModel):
    """A change to an agent's flags; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    candidate_share: float | None = Field(default=None, ge=0, le=100, description="Percent of units on the candidate.")
    sample_rate: float | None = Field(default=None, ge=0, le=1, description="Share of answers sampled for scoring.")
    enabled: bool | None = Field(default=None, description="False is the kill switch.")
    overrides: dict[UnitId, Variant] | None = Field(
        default=None, max_length=MAX_OVERRIDES, description="Replaces them all (at most 10,000 per agent)."
    )
    pin: dict[UnitId, Variant] | None = Field(
        default=None, max_length=1_000, description="Adds or changes overrides (the agent's total stays ≤ 10,000)."
    )
    unpin: list[UnitId] | None = Field(default=None, max_length=1_000, description="Removes these units' overrides.")

    def to_change(self) -> FlagChange:
        for units in (self.overrides or {}, self.pin or {}, self.unpin or []):
            for unit in units:
                if not 0 < len(unit) <= 256:
                    raise BadRequest("unit ids must be 1–256 characters long", code="invalid_unit")
        return FlagChange(
            candidate_share=self.candidate_share,
            sample_rate=self.sample_rate,
            enabled=self.enabled,
            overrides=self.overrides,
            pin=self.pin,
            unpin=tuple(self.unpin) if self.unpin is not None else None,
        )


class FlagList(BaseModel):
    """Every agent's flags."""

    object: Literal["list"] = "list"
    data: list[AgentFlags]


class AuditLog(BaseModel):
    """An agent's audit entries, newest first."""

    object: Literal["list"] = "list"
    data: list[AuditEntry]


class AssignmentReports(BaseModel):
    """Every agent's assignment counts and SRM check."""

    object: Literal["list"] = "list"
    data: list[AssignmentReport]


def _guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Authenticate every admin route; writes need a read-write token, prompts and answers a content one."""
    state = connection.app.state.gateway
    admin = state.admin_tokens.authenticate(connection.headers.get("authorization"))
    if handler.opt.get("admin_write"):
        state.admin_tokens.check_write(admin)
    if handler.opt.get("admin_content"):
        state.admin_tokens.check_content(admin)


def _admin(request: Request[Any, Any, Any]) -> Admin:
    return state_of(request).admin_tokens.authenticate(request.headers.get("authorization"))


def _service(request: Request[Any, Any, Any]) -> FlagService:
    state = state_of(request)
    return FlagService(state.flags, state.assignments)


@get("/flags", summary="Every agent's flags")
async def list_flags(request: Request[Any, Any, Any]) -> FlagList:
    """The local copy of every agent's flags (the replica answering; replicas agree within a second)."""
    return FlagList(data=_service(request).all())


@get("/agents/{agent:str}", summary="One agent's flags")
async def show_flags(request: Request[Any, Any, Any], agent: FromPath[str]) -> AgentFlags:
    """An agent's flags: enabled, candidate share, overrides, sample rate, version, phase, schedule."""
    return _service(request).one(agent)


@patch("/agents/{agent:str}", summary="Change an agent's flags", opt=_WRITE)
async def change_flags(request: Request[Any, Any, Any], agent: FromPath[str], data: JSONBody[FlagUpdate]) -> AgentFlags:
    """Change share, sample rate, enabled or overrides; the version moves on and the change is audited.

    Setting the share by hand stops a running schedule. A new share starts a new phase of the
    assignment counts.
    """
    return await _service(request).change(agent, data.to_change(), actor=_admin(request).name)


@post("/agents/{agent:str}/kill", summary="Kill switch: every request to the baseline", status_code=200, opt=_WRITE)
async def kill_agent(request: Request[Any, Any, Any], agent: FromPath[str]) -> AgentFlags:
    """Send all of the agent's traffic to the baseline at once and stop any schedule."""
    return await _service(request).kill(agent, actor=_admin(request).name)


@post("/agents/{agent:str}/revive", summary="Undo a kill", status_code=200, opt=_WRITE)
async def revive_agent(request: Request[Any, Any, Any], agent: FromPath[str]) -> AgentFlags:
    """Run the agent's split again at the share it has."""
    return await _service(request).revive(agent, actor=_admin(request).name)


@post("/agents/{agent:str}/rollout", summary="Start a staged rollout", status_code=200, opt=_WRITE)
async def start_rollout(
    request: Request[Any, Any, Any], agent: FromPath[str], data: JSONBody[RolloutRequest]
) -> AgentFlags:
    """Go through ``steps`` (percent, strictly increasing, 0–100) every ``interval_s`` seconds.

    The first step applies at once; one replica takes each later step. A kill or a hand-set share
    stops the schedule; the quality gate may hold a step or roll back to 0 %.
    """
    return await _service(request).start_rollout(agent, data, actor=_admin(request).name)


@delete("/agents/{agent:str}/rollout", summary="Stop a staged rollout", status_code=200, opt=_WRITE)
async def stop_rollout(request: Request[Any, Any, Any], agent: FromPath[str]) -> AgentFlags:
    """Stop the schedule; the share stays at the current step."""
    return await _service(request).stop_rollout(agent, actor=_admin(request).name)


@get("/agents/{agent:str}/history", summary="An agent's audit log")
async def history(
    request: Request[Any, Any, Any],
    agent: FromPath[str],
    limit: Annotated[int, QueryParameter(ge=1, le=1000, description="How many entries, newest first.")] = 50,
) -> AuditLog:
    """Every change with its time, actor (admin token name, ``rollout``, ``rollout-gate``), old and new flags."""
    return AuditLog(data=await _service(request).history(agent, limit=limit))


@get("/agents/{agent:str}/assignments", summary="Assignment counts and SRM check")
async def assignments(request: Request[Any, Any, Any], agent: FromPath[str]) -> AssignmentReport:
    """Units per variant in the current phase (reset when the share changes) and the chi-square SRM check."""
    return await _service(request).assignments(agent)


@get("/srm", summary="SRM check of every agent")
async def srm(request: Request[Any, Any, Any]) -> AssignmentReports:
    """Every agent's assignment counts and sample-ratio-mismatch check (flagged at p < 0.001)."""
    return AssignmentReports(data=await _service(request).srm_all())


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """A body that does not validate: 400 in the Mistral shape, naming each bad field."""
    problems = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = item.get("key")
            if key == "data":  # Litestar's way of saying the body is missing altogether
                problems.append("the request body must be a JSON object")
            else:
                problems.append(f"{key}: {item.get('message')}" if key else str(item.get("message")))
    err = BadRequest("; ".join(problems) or str(exc.detail), code="invalid_admin_request")
    headers = {"x-request-id": request_id(request.headers)}  # like every other error the app answers
    return Response(err.body(), status_code=err.status, media_type="application/json", headers=headers)


def admin_router() -> Router:
    """Every admin route under ``/admin``, for ``create_app`` (a fresh router per app)."""
    return Router(
        "/admin",
        route_handlers=[
            list_flags,
            show_flags,
            change_flags,
            kill_agent,
            revive_agent,
            start_rollout,
            stop_rollout,
            history,
            assignments,
            srm,
        ],
        guards=[_guard],
        exception_handlers={ValidationException: _validation_error},
        security=[{_SECURITY_SCHEME: []}],
        tags=["admin"],
        include_in_schema=True,
    )
