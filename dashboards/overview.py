"""The *Gateway overview* dashboard: traffic, errors, latency, tokens, spend, fallbacks, rollout share.

Heavy expressions (rates and quantiles per agent and variant) come from the recording rules in
``dashboards/prometheus/recording.yml``; the few raw queries use ``$__rate_interval``.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as builders

from dashboards.panels import (
    AGENT,
    AGENT_VARIANT,
    Query,
    dashboard,
    or_zero,
    stat_panel,
    steps,
    timeseries_panel,
)

UID = "genesis-gateway-overview"

_BY_AV = "{{agent}} · {{variant}}"
_ERROR_STEPS = (0.01, "orange"), (0.05, "red")


def build() -> builders.Dashboard:
    """The overview dashboard, rows top to bottom in the order ops read them."""
    board = dashboard(
        "Genesis Gateway — overview",
        UID,
        "Traffic, errors, latency, tokens and spend per agent and variant (candidate vs baseline).",
        tag="gateway",
        refresh="30s",
        since="now-3h",
    )
    board = _glance(board.with_row(builders.Row("At a glance")))
    board = _traffic(board.with_row(builders.Row("Traffic and rollout")))
    board = _latency(board.with_row(builders.Row("Latency")))
    board = _spend(board.with_row(builders.Row("Tokens and spend")))
    return _reliability(board.with_row(builders.Row("Reliability")))


def _glance(board: builders.Dashboard) -> builders.Dashboard:
    rate5m = f"agent_variant:genesis_requests:rate5m{{{AGENT_VARIANT}}}"
    errors = f"agent_variant:genesis_request_errors:ratio_rate5m{{{AGENT_VARIANT}}}"
    return (
        board.with_panel(
            stat_panel(
                "Requests per second",
                "All chat requests of the selected agents and variants (2 min rate).",
                [Query(f"sum(agent_variant:genesis_requests:rate2m{{{AGENT_VARIANT}}})", "requests/s")],
                unit="reqps",
                thresholds=steps("blue"),
            )
        )
        .with_panel(
            stat_panel(
                "5xx error ratio",
                "Share of requests answered with a 5xx over 5 min, weighted by traffic.",
                [Query(f"sum({rate5m} * {errors}) / sum({rate5m})", "5xx ratio")],
                unit="percentunit",
                thresholds=steps("green", *_ERROR_STEPS),
            )
        )
        .with_panel(
            stat_panel(
                "Worst p95 latency",
                "Highest 95th percentile request duration among the selected agents and variants (5 min).",
                [
                    Query(
                        f'max(agent_variant:genesis_request_duration_seconds:quantile_rate5m{{{AGENT_VARIANT}, quantile="0.95"}})',
                        "p95",
                    )
                ],
                unit="s",
                thresholds=steps("green", (10.0, "orange"), (20.0, "red")),
            )
        )
        .with_panel(
            stat_panel(
                "Spend per hour",
                "Estimated upstream spend from the configured price table, extrapolated to an hour (5 min rate).",
                [Query(f"3600 * sum(agent_variant:genesis_cost_usd:rate5m{{{AGENT_VARIANT}}})", "USD/h")],
                unit="currencyUSD",
                thresholds=steps("blue"),
            )
        )
    )


def _traffic(board: builders.Dashboard) -> builders.Dashboard:
    return (
        board.with_panel(
            timeseries_panel(
                "Requests per second by agent and variant",
                "Chat requests answered, by agent and assigned variant (2 min rate).",
                [Query(f"agent_variant:genesis_requests:rate2m{{{AGENT_VARIANT}}}", _BY_AV)],
                unit="reqps",
            )
        )
        .with_panel(
            timeseries_panel(
                "5xx error ratio by agent and variant",
                "Share of requests answered with a 5xx (5 min). The candidate alert fires 2 points above the baseline.",
                [Query(f"agent_variant:genesis_request_errors:ratio_rate5m{{{AGENT_VARIANT}}}", _BY_AV)],
                unit="percentunit",
                thresholds=steps("green", *_ERROR_STEPS),
                bounds=(0.0, 1.0),
            )
        )
        .with_panel(
            timeseries_panel(
                "Responses by status class",
                "Every answer of the selected agents and variants, stacked by status class.",
                [
                    Query(
                        f"sum by (status_class) (rate(genesis_requests_total{{{AGENT_VARIANT}}}[$__rate_interval]))",
                        "{{status_class}}",
                    )
                ],
                unit="reqps",
                stacked=True,
            )
        )
        .with_panel(
            timeseries_panel(
                "Candidate share per agent: configured and observed",
                "The share of users the flags send to the fine-tuned model, and the share actually assigned (5 min).",
                [
                    Query(f"genesis_candidate_share_percent{{{AGENT}}}", "configured · {{agent}}"),
                    Query(f"100 * agent:genesis_candidate_assignments:ratio_rate5m{{{AGENT}}}", "observed · {{agent}}"),
                ],
                unit="percent",
                bounds=(0.0, 100.0),
            )
        )
    )


def _quantiles(record: str, matchers: str, label: str) -> list[Query]:
    return [
        Query(f'{record}{{{matchers}, quantile="{q}"}}', f"p{int(float(q) * 100)} · {label}")
        for q in ("0.5", "0.95", "0.99")
    ]


def _latency(board: builders.Dashboard) -> builders.Dashboard:
    return (
        board.with_panel(
            timeseries_panel(
                "Request duration p50 / p95 / p99",
                "Time from receiving a chat request to its last byte, by agent and variant (5 min).",
                _quantiles("agent_variant:genesis_request_duration_seconds:quantile_rate5m", AGENT_VARIANT, _BY_AV),
                unit="s",
                width=8,
                thresholds=steps("green", (20.0, "red")),
            )
        )
        .with_panel(
            timeseries_panel(
                "Time to first token p50 / p95 / p99 (streams)",
                "Streaming requests: time from receiving the request to relaying the first content byte (5 min).",
                _quantiles("agent_variant:genesis_time_to_first_token_seconds:quantile_rate5m", AGENT_VARIANT, _BY_AV),
                unit="s",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Gateway overhead p50 / p95 / p99",
                "Time spent in the gateway itself, before forwarding and after the upstream answered (5 min).",
                _quantiles("agent:genesis_gateway_overhead_seconds:quantile_rate5m", AGENT, "{{agent}}"),
                unit="s",
                width=8,
            )
        )
    )


def _spend(board: builders.Dashboard) -> builders.Dashboard:
    cost = f"agent_variant:genesis_cost_usd:rate5m{{{AGENT_VARIANT}}}"
    return (
        board.with_panel(
            timeseries_panel(
                "Tokens per second by agent, variant and type",
                "Tokens reported by the upstream, input and output (5 min rate).",
                [
                    Query(
                        f"agent_variant_type:genesis_tokens:rate5m{{{AGENT_VARIANT}}}",
                        "{{agent}} · {{variant}} · {{type}}",
                    )
                ],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Spend per hour by agent and variant",
                "Estimated spend from the configured price table, extrapolated to an hour (5 min rate).",
                [Query(f"3600 * {cost}", _BY_AV)],
                unit="currencyUSD",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Cost per request by agent and variant",
                "Average estimated spend of one request: what the fine-tuned model costs against its baseline.",
                [Query(f"{cost} / agent_variant:genesis_requests:rate5m{{{AGENT_VARIANT}}}", _BY_AV)],
                unit="currencyUSD",
                width=8,
            )
        )
    )


def _reliability(board: builders.Dashboard) -> builders.Dashboard:
    traffic = f"sum by (agent) (rate(genesis_requests_total{{{AGENT}}}[$__rate_interval]))"
    return (
        board.with_panel(
            timeseries_panel(
                "Fallbacks to the baseline per second",
                "Requests served by the baseline because the candidate's upstream failed; 0 while none happened.",
                [
                    Query(
                        or_zero(
                            f"sum by (agent) (rate(genesis_fallbacks_total{{{AGENT}}}[$__rate_interval]))", like=traffic
                        ),
                        "{{agent}}",
                    )
                ],
                unit="reqps",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Upstream errors per second by upstream and reason",
                "Failed upstream attempts (connect, timeout, status_503, mid_stream, ...), retried or not.",
                [
                    Query(
                        or_zero(
                            "sum by (upstream, reason) (rate(genesis_upstream_errors_total[$__rate_interval]))",
                            labels=("upstream", "reason"),
                        ),
                        "{{upstream}} · {{reason}}",
                    )
                ],
                unit="reqps",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Flags: staleness of the local copy and Redis errors",
                "Seconds since this replica last synced its flags (worst replica), and Redis errors per second "
                "by component. The gateway keeps serving on its last flags while Redis is away.",
                [
                    Query("max(genesis_flags_staleness_seconds)", "flag staleness (s)"),
                    Query(
                        or_zero(
                            "sum by (component) (rate(genesis_redis_errors_total[$__rate_interval]))",
                            labels=("component",),
                        ),
                        "Redis errors/s · {{component}}",
                    ),
                ],
                unit="short",
                width=8,
            )
        )
        .with_panel(
            timeseries_panel(
                "Background loop errors per second by component",
                "Unexpected failures of the gateway's background loops (A/B analysis, rollout controller and gate, "
                "flag monitor, assignment-count flush), each logged with its traceback; 0 while none happened.",
                [
                    Query(
                        or_zero(
                            "sum by (component) (rate(genesis_background_errors_total[$__rate_interval]))",
                            labels=("component",),
                        ),
                        "{{component}}",
                    )
                ],
                unit="short",
                width=8,
            )
        )
    )
