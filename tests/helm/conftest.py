"""Fixtures of the chart tests: the chart loaded once per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helm.chart import CHART, Rendered, helm, render


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    """The repository's chart, loaded by Helm's engine."""
    with helm.Chart.load(CHART) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def default(chart: helm.Chart) -> Rendered:
    """The chart rendered with its default values."""
    return render(chart)
