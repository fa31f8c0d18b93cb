"""The ``genesis-gateway`` command: serve, demo, and the tools around them.

The CLI is, with ``gateway.asgi``, the only code that reads the environment; everything below it
receives typed settings.
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer

from gateway.cli.ab_cmd import app as ab_app
from gateway.cli.bench_cmd import BENCH_HELP, bench
from gateway.cli.export_cmd import app as export_app
from gateway.cli.flags_cmd import app as flags_app
from gateway.cli.scoring_cmd import app as scoring_app
from gateway.cli.serve import demo, serve
from gateway.cli.worker_cmd import worker

app = typer.Typer(
    name="genesis-gateway",
    help="A/B-testing and monitoring gateway for fine-tuned LLM agents (Mistral API compatible).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"genesis-gateway {metadata.version('genesis-gateway')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    # The version is what a bug report needs first; the callback only hosts the eager option.
    pass


app.command(help=serve.__doc__)(serve)
app.command(help=demo.__doc__)(demo)
app.command(name="worker", help=worker.__doc__)(worker)
app.add_typer(export_app, name="export")
app.add_typer(scoring_app, name="scoring")
app.add_typer(flags_app, name="flags")
app.add_typer(ab_app, name="ab")
app.command(name="bench", help=BENCH_HELP)(bench)


def main() -> None:
    """Console-script entry point."""
    app()
