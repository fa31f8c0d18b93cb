"""The building blocks the three dashboards share: queries, template variables, panel kinds, thresholds.

Every panel reads the Prometheus data source chosen in the ``datasource`` variable and filters on the
``agent`` (and, where the metric has it, ``variant``) variables, whose "All" value is ``.*`` so a
selection never grows into a long regular expression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cog
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

QUALITY_TARGET = 8.0
"""The pass line of the original benchmark, drawn on every score panel."""

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")

AGENT = 'agent=~"$agent"'
"""Matcher for the ``agent`` variable."""
AGENT_VARIANT = 'agent=~"$agent", variant=~"$variant"'
"""Matchers for the ``agent`` and ``variant`` variables."""

_REF_IDS = "ABCDEFGHIJ"


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel and how its series are named in the legend."""

    expr: str
    legend: str = ""
    instant: bool = False
    """Evaluate once at the end of the range (tables, single stats) instead of over the range."""


def dashboard(title: str, uid: str, description: str, *, tag: str, refresh: str, since: str) -> builders.Dashboard:
    """A dashboard with the shared variables and a drop-down linking the other Genesis dashboards."""
    return (
        builders.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["genesis", tag])
        .refresh(refresh)
        .time(since, "now")
        .timezone("browser")
        .editable()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .variables(variables())
        .link(
            builders.DashboardLink("Genesis dashboards")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["genesis"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


def variables(*, variant: bool = True) -> list[cog.Builder[model.VariableModel]]:
    """The data source, agent and (optionally) variant variables, agent and variant multi-select."""
    found: list[cog.Builder[model.VariableModel]] = [
        builders.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        _label_variable("agent", "Agent", "label_values(genesis_requests_total, agent)"),
    ]
    if variant:
        found.append(
            _label_variable("variant", "Variant", 'label_values(genesis_requests_total{agent=~"$agent"}, variant)')
        )
    return found


def _label_variable(name: str, label: str, query: str) -> builders.QueryVariable:
    return (
        builders.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
    )


def steps(base: str, *above: tuple[float, str]) -> builders.ThresholdsConfig:
    """Absolute thresholds: ``base`` colour below the first value, then each colour from its value up."""
    found = [model.Threshold(value=None, color=base)]
    found += [model.Threshold(value=value, color=color) for value, color in above]
    return builders.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(found)


def score_steps() -> builders.ThresholdsConfig:
    """Red below the 8.0 pass line, green from it."""
    return steps("red", (QUALITY_TARGET, "green"))


def _targets(queries: Sequence[Query], *, as_table: bool = False) -> list[cog.Builder[variants.Dataquery]]:
    found: list[cog.Builder[variants.Dataquery]] = []
    for ref_id, query in zip(_REF_IDS, queries, strict=False):
        target = prometheus.Dataquery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref_id)
        if as_table:
            target = target.format(prometheus_model.PromQueryFormat.TABLE)
        found.append(target.instant() if query.instant else target.range())
    return found


def timeseries_panel(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    width: int = 12,
    bounds: tuple[float, float] | None = None,
    thresholds: builders.ThresholdsConfig | None = None,
    stacked: bool = False,
    log_scale: bool = False,
    no_value: str | None = None,
) -> timeseries.Panel:
    """A time series; thresholds, when given, are drawn as dashed lines."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))
        .unit(unit)
        .span(width)
        .height(8)
        .line_width(1)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(
            common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)
        )
    )
    if bounds is not None:
        panel = panel.min(bounds[0]).max(bounds[1])
    if thresholds is not None:
        panel = panel.thresholds(thresholds).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.DASHED)
        )
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL)).fill_opacity(40)
    if log_scale:
        panel = panel.scale_distribution(
            common_builders.ScaleDistributionConfig().type(common.ScaleDistribution.LOG).log(10)
        )
    if no_value is not None:
        panel = panel.no_value(no_value)
    return panel


def stat_panel(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    width: int = 6,
    thresholds: builders.ThresholdsConfig | None = None,
    mappings: Sequence[model.ValueMapping] = (),
    text_mode: common.BigValueTextMode = common.BigValueTextMode.AUTO,
) -> stat.Panel:
    """A single number per series (the last value), coloured by its thresholds."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))
        .unit(unit)
        .span(width)
        .height(5)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.AREA)
        .text_mode(text_mode)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(thresholds if thresholds is not None else steps("green"))
    )
    if mappings:
        panel = panel.mappings(list(mappings))
    return panel


def table_panel(title: str, description: str, queries: Sequence[Query], *, width: int = 24) -> table.Panel:
    """The latest value of each query side by side, one row per label set; columns named by the legends."""
    instant = [Query(q.expr, q.legend, instant=True) for q in queries]
    renames = {f"Value #{ref_id}": query.legend for ref_id, query in zip(_REF_IDS, queries, strict=False)}
    return (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(instant, as_table=True))
        .span(width)
        .height(8)
        .decimals(3)
        .show_header(True)
        .with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            model.DataTransformerConfig(
                id_val="organize", options={"excludeByName": {"Time": True}, "renameByName": renames}
            )
        )
    )


def value_text(mapping: dict[str, tuple[str, str]]) -> model.ValueMap:
    """Show numbers as words: ``{"1": ("MISMATCH", "red")}``."""
    return model.ValueMap(
        options={value: model.ValueMappingResult(text=text, color=color) for value, (text, color) in mapping.items()}
    )


def fixed_colour(colour: str) -> list[model.DynamicConfigValue]:
    """Override properties that paint a series in one colour."""
    return [model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": colour})]


def number_panels(dashboard: model.Dashboard) -> model.Dashboard:
    """Give every panel and row a stable id in layout order (Grafana needs them unique per dashboard)."""
    for index, panel in enumerate(dashboard.panels or [], start=1):
        panel.id_val = index
    return dashboard


def or_zero(expr: str, *, like: str | None = None, labels: Sequence[str] = ()) -> str:
    """``expr``, or zeros when it has no series yet (a counter whose first event has not happened).

    With ``like`` the zeros carry that expression's labels (one zero per agent that has traffic);
    otherwise one zero carrying ``labels`` set to ``none``. Rare-event panels then show 0, not "No data".
    """
    if like is not None:
        return f"{expr} or 0 * {like}"
    zero = "vector(0)"
    for label in labels:
        zero = f'label_replace({zero}, "{label}", "none", "", "")'
    return f"{expr} or {zero}"
