"""Inline SVG bar charts for the HTML report: grouped bars on a 0–10 scale, with an optional threshold line.

Plain strings, no JavaScript and no external files, so the report opens anywhere (a CI artifact,
an e-mail attachment) and stays readable when printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2f6fdf", "#9aa5b1", "#e0912f", "#3a9d5d", "#b04fb5", "#c94040")
_SCALE_MAX = 10.0
_PLOT_HEIGHT = 220
_TOP, _LEFT, _BOTTOM, _RIGHT = 28, 40, 46, 16
_LABEL_ROOM = 84
"""Room right of the plot for the threshold's label, so it never covers a bar's value."""
_BAR, _GAP = 22, 3


@dataclass(frozen=True, slots=True)
class Group:
    """One cluster of bars: a label and one value per series (None draws no bar)."""

    label: str
    values: Sequence[float | None]


def bar_chart(
    title: str, series: Sequence[str], groups: Sequence[Group], *, threshold: float | None = None, chart_id: str
) -> str:
    """A grouped bar chart as an ``<svg>`` element."""
    group_width = len(series) * (_BAR + _GAP) + 36
    width = _LEFT + _RIGHT + max(1, len(groups)) * group_width + (_LABEL_ROOM if threshold is not None else 0)
    height = _TOP + _PLOT_HEIGHT + _BOTTOM
    parts = [
        f'<svg id="{escape(chart_id)}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height + 22}" width="{width}" height="{height + 22}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        *_grid(width),
    ]
    for i, group in enumerate(groups):
        x0 = _LEFT + i * group_width + 18
        for j, value in enumerate(group.values):
            if value is not None:
                parts.append(_bar(x0 + j * (_BAR + _GAP), value, series[j], group.label, PALETTE[j % len(PALETTE)]))
        centre = x0 + (len(series) * (_BAR + _GAP)) / 2
        parts.append(
            f'<text x="{centre:.1f}" y="{_TOP + _PLOT_HEIGHT + 16}" text-anchor="middle" class="label">'
            f"{escape(_short(group.label))}</text>"
        )
    if threshold is not None:
        parts += _threshold(threshold, width)
    parts += _legend(series, height)
    parts.append("</svg>")
    return "\n".join(parts)


def _y(value: float) -> float:
    clamped = min(max(value, 0.0), _SCALE_MAX)
    return _TOP + _PLOT_HEIGHT * (1 - clamped / _SCALE_MAX)


def _grid(width: int) -> list[str]:
    lines = []
    for tick in range(0, 11, 2):
        y = _y(tick)
        lines.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" class="grid"/>')
        lines.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick}</text>')
    return lines


def _bar(x: float, value: float, series: str, group: str, colour: str) -> str:
    top = _y(value)
    tip = escape(f"{group} — {series}: {value:.2f}")
    return (
        f'<rect x="{x:.1f}" y="{top:.1f}" width="{_BAR}" height="{_TOP + _PLOT_HEIGHT - top:.1f}" '
        f'fill="{colour}"><title>{tip}</title></rect>'
        f'<text x="{x + _BAR / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle" class="value">{value:.1f}</text>'
    )


def _threshold(threshold: float, width: int) -> list[str]:
    y = _y(threshold)
    return [
        f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT - _LABEL_ROOM + 8}" y2="{y:.1f}" class="threshold"/>',
        f'<text x="{width - _RIGHT - _LABEL_ROOM + 12}" y="{y + 4:.1f}" text-anchor="start" class="threshold-label">'
        f"threshold {threshold:.1f}</text>",
    ]


def _legend(series: Sequence[str], height: int) -> list[str]:
    parts = []
    x = _LEFT
    for j, name in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{height}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{height + 10}" class="legend">{escape(_short(name, 40))}</text>')
        x += 24 + 8 * min(len(name), 40)
    return parts


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
