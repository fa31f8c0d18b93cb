"""The *Experiments* dashboard: per agent the A/B difference with its interval, the verdict, the
sample-ratio-mismatch check and the staged rollout.

The A/B figures are gauges the analysis sets (``genesis_ab_*``); the flags' gauges say what the
gateway is doing right now (share, kill switch, rollout step).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.models import common

from dashboards.panels import (
    AGENT,
    AGENT_VARIANT,
    Query,
    dashboard,
    fixed_colour,
    or_zero,
    stat_panel,
    steps,
    table_panel,
    timeseries_panel,
    value_text,
)

UID = "genesis-experiments"

_VERDICT_COLOURS = {"promote": "green", "continue": "blue", "inconclusive": "orange", "rollback": "red"}


def build() -> builders.Dashboard:
    """The experiments dashboard: verdicts first, then the evidence, then the assignment and rollout."""
    board = dashboard(
        "Genesis Gateway — experiments",
        UID,
        "A/B analysis per agent (candidate − baseline), sample-ratio check and staged rollout.",
        tag="experiments",
        refresh="1m",
        since="now-24h",
    )
    board = _verdicts(board.with_row(builders.Row("Verdict")))
    board = _evidence(board.with_row(builders.Row("Difference candidate − baseline with its interval")))
    board = _assignment(board.with_row(builders.Row("Assignment health")))
    return _rollout(board.with_row(builders.Row("Rollout and flags")))


def _verdicts(board: builders.Dashboard) -> builders.Dashboard:
    verdict = stat_panel(
        "Current verdict per agent",
        "What the A/B analysis decides now: promote, continue, rollback or inconclusive.",
        [Query(f"max by (agent, verdict) (genesis_ab_verdict{{{AGENT}}}) == 1", "{{agent}}: {{verdict}}")],
        unit="none",
        width=8,
        text_mode=common.BigValueTextMode.NAME,
    )
    for name, colour in _VERDICT_COLOURS.items():
        verdict = verdict.override_by_regexp(f".*: {name}", fixed_colour(colour))
    table = table_panel(
        "Current results per agent and dimension",
        "Latest difference (candidate − baseline), its 95 % interval and p-value.",
        [
            Query(f"genesis_ab_difference{{{AGENT}}}", "difference"),
            Query(f"genesis_ab_ci_lower{{{AGENT}}}", "CI lower"),
            Query(f"genesis_ab_ci_upper{{{AGENT}}}", "CI upper"),
            Query(f"genesis_ab_p_value{{{AGENT}}}", "p-value"),
        ],
        width=16,
    )
    return board.with_panel(verdict).with_panel(table)


def _difference_panel(dimension: str, title: str) -> timeseries.Panel:
    matchers = f'{AGENT}, dimension="{dimension}"'
    return timeseries_panel(
        title,
        "Mean score of the candidate minus the baseline's, with the 95 % interval (dashed bounds). "
        "An interval wholly above 0 favours the candidate.",
        [
            Query(f"genesis_ab_difference{{{matchers}}}", "difference · {{agent}}"),
            Query(f"genesis_ab_ci_lower{{{matchers}}}", "CI lower · {{agent}}"),
            Query(f"genesis_ab_ci_upper{{{matchers}}}", "CI upper · {{agent}}"),
        ],
        unit="none",
        thresholds=steps("red", (0.0, "green")),
    )


def _evidence(board: builders.Dashboard) -> builders.Dashboard:
    return (
        board.with_panel(_difference_panel("overall", "Overall score difference"))
        .with_panel(_difference_panel("specificity", "Specificity difference"))
        .with_panel(
            timeseries_panel(
                "p-value by agent and dimension",
                "p-value of the difference; the dashed line is 0.05.",
                [Query(f"genesis_ab_p_value{{{AGENT}}}", "{{agent}} · {{dimension}}")],
                unit="none",
                log_scale=True,
                thresholds=steps("green", (0.05, "orange")),
            )
        )
        .with_panel(
            timeseries_panel(
                "Scored samples per agent and variant",
                "How many scored answers the analysis rests on.",
                [Query(f"genesis_ab_samples{{{AGENT_VARIANT}}}", "{{agent}} · {{variant}}")],
                unit="short",
            )
        )
    )


def _assignment(board: builders.Dashboard) -> builders.Dashboard:
    return (
        board.with_panel(
            stat_panel(
                "Sample-ratio mismatch",
                "Chi-square test of the assignment counts against the configured share, flagged at p < 0.001.",
                [Query(f"max by (agent) (genesis_srm_detected{{{AGENT}}})", "{{agent}}")],
                unit="none",
                width=6,
                thresholds=steps("green", (1.0, "red")),
                mappings=[value_text({"0": ("OK", "green"), "1": ("MISMATCH", "red")})],
                text_mode=common.BigValueTextMode.VALUE_AND_NAME,
            )
        )
        .with_panel(
            timeseries_panel(
                "Sample-ratio p-value",
                "p-value of the sample-ratio check; below the dashed 0.001 line the split is broken.",
                [Query(f"genesis_srm_p_value{{{AGENT}}}", "{{agent}}")],
                unit="none",
                width=9,
                log_scale=True,
                thresholds=steps("red", (0.001, "green")),
            )
        )
        .with_panel(
            timeseries_panel(
                "Assignments per second by variant and reason",
                "How users were assigned: hash bucket, override, forced, disabled agent, ...",
                [
                    Query(
                        f"sum by (agent, variant, reason) (rate(genesis_assignments_total{{{AGENT_VARIANT}}}[$__rate_interval]))",
                        "{{agent}} · {{variant}} · {{reason}}",
                    )
                ],
                unit="reqps",
                width=9,
            )
        )
    )


def _rollout(board: builders.Dashboard) -> builders.Dashboard:
    enabled = f"genesis_agent_enabled{{{AGENT}}}"
    return (
        board.with_panel(
            timeseries_panel(
                "Candidate share: current and rollout target",
                "The share of users on the candidate now, and the share the staged rollout is heading for.",
                [
                    Query(f"genesis_candidate_share_percent{{{AGENT}}}", "share · {{agent}}"),
                    Query(f"genesis_rollout_target_share_percent{{{AGENT}}}", "target · {{agent}}"),
                ],
                unit="percent",
                width=8,
                bounds=(0.0, 100.0),
            )
        )
        .with_panel(
            timeseries_panel(
                "Rollout step and flag version",
                "The staged rollout's current step, and the flag version (it rises on every change).",
                [
                    Query(f"genesis_rollout_step{{{AGENT}}}", "step · {{agent}}"),
                    Query(f"genesis_flag_version{{{AGENT}}}", "flag version · {{agent}}"),
                ],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            stat_panel(
                "Kill switch",
                "Whether each agent's experiment runs (ENABLED) or is killed (every request to the baseline).",
                [Query(enabled, "{{agent}}")],
                unit="none",
                width=4,
                thresholds=steps("red", (1.0, "green")),
                mappings=[value_text({"1": ("ENABLED", "green"), "0": ("KILLED", "red")})],
                text_mode=common.BigValueTextMode.VALUE_AND_NAME,
            )
        )
        .with_panel(
            stat_panel(
                "Rollbacks (24 h)",
                "Rollbacks the A/B gate decided over the last day.",
                [
                    Query(
                        or_zero(
                            f"sum by (agent) (increase(genesis_ab_rollbacks_total{{{AGENT}}}[24h]))",
                            like=f"max by (agent) ({enabled})",
                        ),
                        "{{agent}}",
                    )
                ],
                unit="short",
                width=4,
                thresholds=steps("green", (1.0, "red")),
                text_mode=common.BigValueTextMode.VALUE_AND_NAME,
            )
        )
    )
