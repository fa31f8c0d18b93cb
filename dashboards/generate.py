"""Writes the dashboards as Grafana JSON: ``python -m dashboards.generate [--out DIR]``.

The JSON under ``dashboards/grafana/`` is committed (Grafana provisioning and the Helm chart read it)
and must equal what this writes; a test regenerates it and fails on any drift.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards import experiments, overview, quality
from dashboards.panels import number_panels

GRAFANA_DIR = Path(__file__).resolve().parent / "grafana"

DASHBOARDS: dict[str, Callable[[], builders.Dashboard]] = {
    "gateway-overview.json": overview.build,
    "quality.json": quality.build,
    "experiments.json": experiments.build,
}
"""File name → the function building that dashboard."""


def render() -> dict[str, str]:
    """Every dashboard's JSON text by file name, keys sorted so the output is stable."""
    return {
        name: json.dumps(number_panels(build().build()), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False)
        + "\n"
        for name, build in DASHBOARDS.items()
    }


def write(out: Path) -> list[Path]:
    """Write every dashboard into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GRAFANA_DIR, help="directory to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
