"""``report.html``: one self-contained page (inline CSS and SVG, no JavaScript, no external files).

It carries the Markdown report's content plus two charts: each agent's mean overall score per
target against the threshold line, and each dimension's average for every target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from gateway.bench import format as fmt
from gateway.bench.model import BenchReport, Roi
from gateway.bench.svg import Group, bar_chart
from scoring.types import DIMENSIONS

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d232a;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #e3e7eb;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #dde2e6;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
.gate{display:inline-block;padding:.3em .8em;border-radius:4px;font-weight:600;color:#fff}
.gate.pass{background:#2e8b57}.gate.fail{background:#c0392b}.gate.error{background:#8e44ad}
.rec-deploy{color:#2e8b57;font-weight:600}.rec-do-not-deploy{color:#c0392b;font-weight:600}.rec-hold,.rec-incomplete{color:#b7791f;font-weight:600}
pre{background:#f6f8fa;padding:.8em;overflow:auto;white-space:pre-wrap;border-radius:4px}
.meta{color:#5a6570}.charts{display:flex;flex-wrap:wrap;gap:2em}
svg.chart .grid{stroke:#e6e9ec}svg.chart .tick,svg.chart .label,svg.chart .legend{font-size:10px;fill:#444}
svg.chart .value{font-size:9px;fill:#333}svg.chart .threshold{stroke:#c0392b;stroke-width:2;stroke-dasharray:6 4}
svg.chart .threshold-label{font-size:11px;fill:#c0392b;font-weight:600}
"""


def render_html(report: BenchReport) -> str:
    """The whole page."""
    body = [
        _header(report),
        _charts(report),
        _overall(report),
        _agents(report),
        _dimensions(report),
        _weakest(report),
        _strongest(report),
        _cost(report),
        _roi(report.roi) if report.roi is not None else "",
        _recommendation(report),
        _errors(report),
        _exit_codes(),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Benchmark report — {escape(report.suite)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + "\n</body></html>\n"
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>" for i, c in enumerate(row)
        )
        lines.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _header(report: BenchReport) -> str:
    gate = report.gate
    reasons = "".join(f"<li>{escape(r)}</li>" for r in gate.reasons)
    return (
        f"<h1>Benchmark report — {escape(report.suite)}</h1>"
        f'<p class="meta">{escape(report.suite_description)}<br>'
        f"{escape(report.started_at)} · {report.duration_s:.1f} s · {len(report.cases)} cases × "
        f"{len(report.targets)} targets ({escape(', '.join(report.targets))}) · {escape(report.mode)} "
        f"({escape(report.source)}) · scorer {escape(report.scorer)} · threshold {report.threshold:.1f}</p>"
        f'<p><span class="gate {gate.status}">Gate: {gate.status.upper()} (exit {gate.exit_code})</span></p>'
        + (f"<ul>{reasons}</ul>" if reasons else "")
    )


def _charts(report: BenchReport) -> str:
    targets = report.targets
    per_agent = [Group(a.agent, [a.targets[t].overall for t in targets]) for a in report.agents]
    per_dimension = [Group(d, [report.overall[t].dimensions.get(d) for t in targets]) for d in DIMENSIONS]
    agents_chart = bar_chart(
        f"Mean overall score per agent against the {report.threshold:.1f} threshold",
        targets,
        per_agent,
        threshold=report.threshold,
        chart_id="chart-agents",
    )
    dims_chart = bar_chart(
        f"Average per dimension: {' vs '.join(targets)}", targets, per_dimension, chart_id="chart-dimensions"
    )
    return (
        '<h2>Charts</h2><div class="charts">'
        f"<figure>{agents_chart}<figcaption>Per agent, against the {report.threshold:.1f} line</figcaption></figure>"
        f"<figure>{dims_chart}<figcaption>Per dimension, {escape(' vs '.join(targets))}</figcaption></figure></div>"
    )


def _overall(report: BenchReport) -> str:
    rows = []
    for target, s in report.overall.items():
        status = "n/a" if s.overall is None else ("PASS" if s.overall >= report.threshold else "FAIL")
        gap = None if s.overall is None else s.overall - report.threshold
        rows.append([target, fmt.score(s.overall), f"{fmt.signed(gap)} ({status})", fmt.percent(s.pass_rate)])
    primary = report.overall[report.primary].overall
    return (
        f"<h2>Overall</h2><p>Overall average of <b>{escape(report.primary)}</b>: <b>{fmt.score(primary)}</b> "
        f"against the threshold {report.threshold:.1f}.</p>"
        + _table(["target", "overall", "vs threshold", "answers passing"], rows, numeric=(1, 2, 3))
    )


def _agents(report: BenchReport) -> str:
    targets = report.targets
    header = ["rank", "agent", *targets, "status", "recommendation"]
    if report.reference is not None:
        header.insert(2 + len(targets), f"{report.primary} − {report.reference}")
    rows_html = []
    for a in report.agents:
        cells = [f'<td class="num">{a.rank}</td>', f"<td>{escape(a.agent)}</td>"]
        cells += [f'<td class="num">{fmt.score(a.targets[t].overall)}</td>' for t in targets]
        if report.reference is not None:
            cells.append(f"<td>{escape(a.comparison.phrase() if a.comparison else 'n/a')}</td>")
        cells.append(f"<td>{'PASS' if a.passed else 'FAIL'}</td>")
        css = "rec-" + a.recommendation.replace(" ", "-")
        cells.append(f'<td><span class="{css}">{escape(a.recommendation)}</span><br>{escape(a.reason)}</td>')
        rows_html.append("<tr>" + "".join(cells) + "</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return (
        f"<h2>Per agent</h2><p>Ranked by {escape(report.primary)}'s mean overall score. Differences are paired by "
        "case: mean, 95 % bootstrap CI, paired t-test p, cost per request relative to the reference.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows_html)}</tbody></table>"
    )


def _dimensions(report: BenchReport) -> str:
    targets = report.targets
    rows = [[d, *(fmt.score(report.overall[t].dimensions.get(d)) for t in targets)] for d in DIMENSIONS]
    per_agent = [
        [a.agent, *(fmt.score(a.targets[report.primary].dimensions.get(d)) for d in DIMENSIONS)] for a in report.agents
    ]
    return (
        "<h2>Per dimension</h2>"
        + _table(["dimension", *targets], rows, numeric=tuple(range(1, len(targets) + 1)))
        + f"<p>{escape(report.primary)} per agent:</p>"
        + _table(["agent", *DIMENSIONS], per_agent, numeric=(1, 2, 3, 4))
    )


def _weakest(report: BenchReport) -> str:
    if not report.weakest:
        return ""
    rows = [
        [
            r.case_id,
            r.agent,
            fmt.score(r.overall),
            fmt.score(r.reference_overall),
            f"{r.weakest_dimension} {r.weakest_value:.1f}",
            r.explanation[:200],
        ]
        for r in report.weakest
    ]
    header = ["case", "agent", report.primary, report.reference or "reference", "weakest dimension", "why"]
    return "<h2>Weakest cases</h2>" + _table(header, rows, numeric=(2, 3))


def _strongest(report: BenchReport) -> str:
    if not report.strongest:
        return ""
    blocks = [
        f"<h3>{escape(r.case_id)} ({escape(r.agent)}) — {r.overall:.2f}</h3><pre>{escape(r.excerpt)}</pre>"
        for r in report.strongest
    ]
    return "<h2>Strongest sample answers</h2>" + "".join(blocks)


def _cost(report: BenchReport) -> str:
    rows = [
        [
            t,
            str(s.cases - s.errors),
            fmt.number(s.input_tokens),
            fmt.number(s.output_tokens),
            fmt.usd(s.cost_usd),
            fmt.usd(s.cost_per_request_usd),
        ]
        for t, s in report.overall.items()
    ]
    header = ["target", "answers", "input tokens", "output tokens", "cost", "per request"]
    return "<h2>Cost</h2>" + _table(header, rows, numeric=(1, 2, 3, 4, 5))


def _roi(roi: Roi) -> str:
    facts = [
        ("Fine-tuning cost", fmt.usd(roi.finetune_cost_usd)),
        ("Requests a month (all agents)", fmt.number(roi.monthly_requests)),
        ("Extra passing answers a month", fmt.number(roi.extra_passes_per_month)),
        ("Extra inference a month", fmt.usd(roi.extra_inference_usd_per_month)),
        (f"Cost over {roi.months} months", fmt.usd(roi.cost_over_horizon_usd)),
        ("Cost per extra passing answer", fmt.usd(roi.cost_per_extra_pass_usd)),
    ]
    if roi.value_per_pass_usd is not None:
        facts.append(("Net value a month", fmt.usd(roi.net_value_usd_per_month)))
        facts.append(
            ("Break-even", "never" if roi.break_even_months is None else f"{roi.break_even_months:.1f} months")
        )
    note = f"<p>{escape(roi.note)}</p>" if roi.note else ""
    return "<h2>Return on the fine-tune</h2>" + note + _table(["", "value"], facts, numeric=(1,))


def _recommendation(report: BenchReport) -> str:
    items = "".join(
        f'<li><b>{escape(a.agent)}</b>: <span class="rec-{a.recommendation.replace(" ", "-")}">'
        f"{escape(a.recommendation)}</span> — {escape(a.reason)}</li>"
        for a in report.agents
    )
    return f"<h2>Deployment recommendation</h2><ul>{items}</ul>"


def _errors(report: BenchReport) -> str:
    if not report.errors:
        return ""
    return "<h2>Errors</h2><ul>" + "".join(f"<li>{escape(e)}</li>" for e in report.errors) + "</ul>"


def _exit_codes() -> str:
    items = "".join(f"<li><code>{code}</code>: {escape(text)}</li>" for code, text in fmt.EXIT_CODES)
    return f"<h2>Exit codes</h2><ul>{items}</ul>"
