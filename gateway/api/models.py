"""``GET /v1/models``: the agents (and pass-through models) as model cards the mistralai SDK parses."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from gateway.state import state_of

_CAPABILITIES = {"completion_chat": True, "function_calling": True, "completion_fim": False, "vision": False}


@get(["/v1/models", "/models"], summary="List agents and models", include_in_schema=True)
async def list_models(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The agent aliases the caller's key may call, then (for unscoped keys) the pass-through models."""
    state = state_of(request)
    caller = state.keys.authenticate(request.headers.get("authorization"))
    created = int(state.started_at)
    cards: list[dict[str, Any]] = []
    for agent, target in state.routes.agents.items():
        if not caller.may_call(agent):
            continue
        cards.append(
            _card(
                agent,
                created,
                description=target.config.description
                or f"{agent}: {target.candidate.model} (candidate) vs {target.baseline.model} (baseline)",
            )
        )
    if "*" in caller.agents:
        cards.extend(_card(model, created, description="passed through") for model in state.routes.models)
    return {"object": "list", "data": cards}


def _card(model_id: str, created: int, *, description: str) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "type": "base",
        "created": created,
        "owned_by": "genesis-gateway",
        "name": model_id,
        "description": description,
        "capabilities": _CAPABILITIES,
        "aliases": [],
    }
