"""The return on a fine-tune: measured gains and extra inference cost, scaled to a monthly volume.

Inputs are the one-off fine-tuning cost (all agents together), the monthly request volume (all
agents together, split evenly unless the suite says otherwise), a horizon in months and,
optionally, what one more passing answer is worth. The outputs are what the measured run
supports: extra passing answers per month, extra inference spend per month, the cost of each
extra passing answer over the horizon, and — given a value per passing answer — the break-even.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.bench.model import AgentResult, AgentRoi, Roi


def compute_roi(
    agents: Sequence[AgentResult],
    targets: Sequence[str],
    *,
    finetune_cost_usd: float,
    monthly_requests: int,
    months: int = 12,
    value_per_pass_usd: float | None = None,
) -> Roi:
    """The ROI of deploying the primary target instead of the reference."""
    base = Roi(
        finetune_cost_usd=finetune_cost_usd,
        monthly_requests=monthly_requests,
        months=months,
        value_per_pass_usd=value_per_pass_usd,
        agents=[],
        extra_inference_usd_per_month=None,
        extra_passes_per_month=None,
        cost_over_horizon_usd=None,
        cost_per_extra_pass_usd=None,
        net_value_usd_per_month=None,
        break_even_months=None,
    )
    if len(targets) < 2 or not agents:
        return base.model_copy(update={"note": "ROI needs a reference to compare against (candidate and baseline)."})
    per_agent = monthly_requests / len(agents)
    rows = [_agent_roi(a, targets, per_agent) for a in agents]
    extra_cost = _sum([r.extra_inference_usd_per_month for r in rows])
    extra_passes = _sum([r.extra_passes_per_month for r in rows])
    horizon_cost = None if extra_cost is None else finetune_cost_usd + months * extra_cost
    per_pass = None
    if horizon_cost is not None and extra_passes is not None and extra_passes > 0:
        per_pass = horizon_cost / (months * extra_passes)
    net = None
    break_even = None
    if value_per_pass_usd is not None and extra_cost is not None and extra_passes is not None:
        net = value_per_pass_usd * extra_passes - extra_cost
        break_even = finetune_cost_usd / net if net > 0 else None
    note = "" if extra_cost is not None else "Some models have no price in the config, so costs are unknown."
    return base.model_copy(
        update={
            "agents": rows,
            "extra_inference_usd_per_month": extra_cost,
            "extra_passes_per_month": extra_passes,
            "cost_over_horizon_usd": horizon_cost,
            "cost_per_extra_pass_usd": per_pass,
            "net_value_usd_per_month": net,
            "break_even_months": break_even,
            "note": note,
        }
    )


def _agent_roi(agent: AgentResult, targets: Sequence[str], requests: float) -> AgentRoi:
    primary, reference = agent.targets[targets[0]], agent.targets[targets[1]]
    score_gain = _diff(primary.overall, reference.overall)
    pass_gain = _diff(primary.pass_rate, reference.pass_rate)
    extra_per_request = _diff(primary.cost_per_request_usd, reference.cost_per_request_usd)
    return AgentRoi(
        agent=agent.agent,
        requests_per_month=requests,
        score_gain=score_gain,
        pass_rate_gain=pass_gain,
        extra_cost_per_request_usd=extra_per_request,
        extra_inference_usd_per_month=None if extra_per_request is None else extra_per_request * requests,
        extra_passes_per_month=None if pass_gain is None else pass_gain * requests,
    )


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _sum(values: Sequence[float | None]) -> float | None:
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)
