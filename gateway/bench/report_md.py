"""``report.md``: the benchmark report in the shape of the original one, plus the paired comparison and ROI.

Sections: verdict, overall average vs threshold, per-agent table (rank, status), candidate vs
baseline per agent, per-dimension averages, weakest cases, strongest sample answers, cost, ROI,
deployment recommendation, errors, and what the exit codes mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.bench import format as fmt
from gateway.bench.model import BenchReport, Roi
from scoring.types import DIMENSIONS

_STATUS = {"deploy": "deploy", "hold": "hold", "do not deploy": "**do not deploy**", "incomplete": "incomplete"}


def render_markdown(report: BenchReport) -> str:
    """The whole Markdown report."""
    parts = [
        _header(report),
        _overall(report),
        _agents(report),
        _comparisons(report),
        _dimensions(report),
        _weakest(report),
        _strongest(report),
        _cost(report),
        _roi(report.roi) if report.roi is not None else "",
        _recommendation(report),
        _errors(report),
        _exit_codes(),
    ]
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], align: str = "") -> str:
    aligns = [("---:" if a == "r" else "---") for a in (align or "l" * len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(aligns) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _header(report: BenchReport) -> str:
    gate = report.gate
    verdict = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}[gate.status]
    cases = len(report.cases)
    lines = [
        f"# Benchmark report — {report.suite}",
        "",
        f"{report.suite_description}".strip(),
        "",
        f"- Run: {report.started_at}, {report.duration_s:.1f} s; {cases} cases × {len(report.targets)} targets "
        f"({', '.join(report.targets)})",
        f"- Answers from: {report.mode} ({report.source})",
        f"- Scorer: {report.scorer}; pass threshold {report.threshold:.1f}; bootstrap seed {report.seed}",
        "",
        f"**Gate: {verdict}** (exit status {gate.exit_code})",
    ]
    lines += [f"- {r}" for r in gate.reasons]
    return "\n".join(lines)


def _overall(report: BenchReport) -> str:
    rows = []
    for target, s in report.overall.items():
        status = "n/a" if s.overall is None else ("PASS" if s.overall >= report.threshold else "FAIL")
        gap = None if s.overall is None else s.overall - report.threshold
        rows.append(
            [target, fmt.score(s.overall), f"{fmt.signed(gap)} ({status})", fmt.percent(s.pass_rate), str(s.errors)]
        )
    primary = report.overall[report.primary]
    intro = (
        f"Overall average of **{report.primary}**: **{fmt.score(primary.overall)}** against the threshold "
        f"{report.threshold:.1f}."
    )
    table = _table(["target", "overall", "vs threshold", "answers passing", "errors"], rows, "lrrrr")
    return f"## Overall\n\n{intro}\n\n{table}"


def _agents(report: BenchReport) -> str:
    targets = report.targets
    header = ["rank", "agent", *targets, "pass rate", "status", "recommendation"]
    rows = []
    for a in report.agents:
        primary = a.targets[report.primary]
        status = "PASS" if a.passed else "FAIL"
        rows.append(
            [
                str(a.rank),
                a.agent,
                *(fmt.score(a.targets[t].overall) for t in targets),
                fmt.percent(primary.pass_rate),
                status,
                _STATUS[a.recommendation],
            ]
        )
    align = "rl" + "r" * (len(targets) + 1) + "ll"
    return f"## Per agent\n\nRanked by {report.primary}'s mean overall score.\n\n" + _table(header, rows, align)


def _comparisons(report: BenchReport) -> str:
    if report.reference is None:
        return ""
    lines = [
        f"## {report.primary} vs {report.reference}",
        "",
        f"Paired by case: mean of ({report.primary} − {report.reference}) overall scores, 95 % bootstrap "
        "confidence interval, paired t-test p-value, and the cost per request relative to the reference.",
        "",
    ]
    for a in report.agents:
        c = a.comparison
        text = "not enough paired cases" if c is None else f"{c.phrase()} — {c.verdict}"
        lines.append(f"- **{a.agent}**: {text}")
    return "\n".join(lines)


def _dimensions(report: BenchReport) -> str:
    targets = report.targets
    header = ["dimension", *targets]
    if report.reference is not None:
        header.append("difference")
    rows = []
    for d in DIMENSIONS:
        values = [report.overall[t].dimensions.get(d) for t in targets]
        row = [d, *(fmt.score(v) for v in values)]
        if report.reference is not None:
            row.append(fmt.signed(None if None in values[:2] else values[0] - values[1]))  # type: ignore[operator]
        rows.append(row)
    text = "## Per dimension\n\nAverages over every case.\n\n" + _table(header, rows, "l" + "r" * (len(header) - 1))
    dims = report.overall[report.primary].dimensions
    if dims:
        weakest = min(dims, key=lambda d: dims[d])
        text += f"\n\nWeakest dimension of {report.primary}: **{weakest}** at {dims[weakest]:.2f}."
    per_agent = [
        [a.agent, *(fmt.score(a.targets[report.primary].dimensions.get(d)) for d in DIMENSIONS)] for a in report.agents
    ]
    text += f"\n\n{report.primary} per agent:\n\n" + _table(["agent", *DIMENSIONS], per_agent, "lrrrr")
    return text


def _weakest(report: BenchReport) -> str:
    if not report.weakest:
        return ""
    header = ["case", "agent", report.primary]
    if report.reference is not None:
        header.append(report.reference)
    header += ["weakest dimension", "why"]
    rows = []
    for ref in report.weakest:
        row = [ref.case_id, ref.agent, fmt.score(ref.overall)]
        if report.reference is not None:
            row.append(fmt.score(ref.reference_overall))
        row += [f"{ref.weakest_dimension} {ref.weakest_value:.1f}", ref.explanation[:160]]
        rows.append(row)
    return "## Weakest cases\n\n" + _table(header, rows)


def _strongest(report: BenchReport) -> str:
    if not report.strongest:
        return ""
    blocks = ["## Strongest sample answers"]
    for ref in report.strongest:
        quoted = "\n".join(f"> {line}" if line else ">" for line in ref.excerpt.splitlines())
        blocks.append(f"### {ref.case_id} ({ref.agent}) — {ref.overall:.2f}\n\n{quoted}")
    return "\n\n".join(blocks)


def _cost(report: BenchReport) -> str:
    rows = []
    for target, s in report.overall.items():
        rows.append(
            [
                target,
                str(s.cases - s.errors),
                fmt.number(s.input_tokens),
                fmt.number(s.output_tokens),
                fmt.usd(s.cost_usd),
                fmt.usd(s.cost_per_request_usd),
                "n/a" if s.mean_latency_s is None else f"{s.mean_latency_s:.2f} s",
            ]
        )
    header = ["target", "answers", "input tokens", "output tokens", "cost", "per request", "mean latency"]
    text = "## Cost\n\nFrom the config's price table (USD per million tokens).\n\n" + _table(header, rows, "lrrrrrr")
    ratios = [f"{a.agent} {fmt.ratio(a.comparison.cost_ratio)}" for a in report.agents if a.comparison]
    if ratios:
        text += f"\n\nCost per request of {report.primary} relative to {report.reference}: " + ", ".join(ratios) + "."
    return text


def _roi(roi: Roi) -> str:
    lines = [
        "## Return on the fine-tune",
        "",
        f"Inputs: fine-tuning cost {fmt.usd(roi.finetune_cost_usd)}, {fmt.number(roi.monthly_requests)} requests "
        f"a month (split evenly across agents), horizon {roi.months} months"
        + (
            f", {fmt.usd(roi.value_per_pass_usd)} per extra passing answer"
            if roi.value_per_pass_usd is not None
            else ""
        )
        + ".",
    ]
    if roi.note:
        lines += ["", roi.note]
    if roi.agents:
        rows = [
            [
                r.agent,
                fmt.signed(r.score_gain),
                fmt.points(r.pass_rate_gain),
                fmt.number(r.extra_passes_per_month),
                fmt.usd(r.extra_cost_per_request_usd),
                fmt.usd(r.extra_inference_usd_per_month),
            ]
            for r in roi.agents
        ]
        header = [
            "agent",
            "score gain",
            "pass-rate gain",
            "extra passes / month",
            "extra cost / request",
            "extra / month",
        ]
        lines += ["", _table(header, rows, "lrrrrr"), ""]
        lines += [
            f"- Extra passing answers a month: {fmt.number(roi.extra_passes_per_month)}",
            f"- Extra inference a month: {fmt.usd(roi.extra_inference_usd_per_month)}",
            f"- Cost over {roi.months} months (fine-tune + extra inference): {fmt.usd(roi.cost_over_horizon_usd)}",
            f"- Cost per extra passing answer over that horizon: {fmt.usd(roi.cost_per_extra_pass_usd)}",
        ]
        if roi.value_per_pass_usd is not None:
            lines.append(f"- Net value a month: {fmt.usd(roi.net_value_usd_per_month)}")
            be = (
                "never (the gain does not cover the extra inference)"
                if roi.break_even_months is None
                else (f"{roi.break_even_months:.1f} months")
            )
            lines.append(f"- Break-even: {be}")
    return "\n".join(lines)


def _recommendation(report: BenchReport) -> str:
    groups: dict[str, list[str]] = {"deploy": [], "hold": [], "do not deploy": [], "incomplete": []}
    for a in report.agents:
        groups[a.recommendation].append(f"  - {a.agent}: {a.reason}")
    lines = ["## Deployment recommendation", ""]
    titles = {
        "deploy": f"Deploy {report.primary}",
        "hold": "Hold (passes, gain not shown)",
        "do not deploy": "Do not deploy",
        "incomplete": "Incomplete (rerun)",
    }
    for key, title in titles.items():
        if groups[key]:
            lines.append(f"- **{title}**:")
            lines += groups[key]
    if report.gate.status == "pass":
        lines += ["", f"Every agent passes the {report.threshold:.1f} threshold without losing to its reference."]
    return "\n".join(lines)


def _errors(report: BenchReport) -> str:
    if not report.errors:
        return ""
    return "## Errors\n\n" + "\n".join(f"- {e}" for e in report.errors)


def _exit_codes() -> str:
    return "## Exit codes\n\n" + "\n".join(f"- `{code}`: {text}" for code, text in fmt.EXIT_CODES)
