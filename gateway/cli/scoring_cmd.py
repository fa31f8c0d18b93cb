"""`genesis-gateway scoring ...`: scoring commands (agreement of the scorers with human judgements)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.console import cli_console
from scoring.validate import SCORER_NAMES, PairwiseFileError, render, validate_files

app = typer.Typer(help="Score answers offline and check the scorers against human preferences.")


@app.callback()
def scoring() -> None:
    """Scoring commands."""
    # A callback keeps `validate` a named subcommand even while it is the only one.


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Human pairwise JSONL files (id, prompt, chosen, rejected).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """Report how often each scorer prefers the human-chosen answer (ties count half)."""
    try:
        report = validate_files(files)
    except PairwiseFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if as_json:
        payload = {f.file: {s: round(f.full(s), 4) for s in SCORER_NAMES} for f in report.files}
        typer.echo(json.dumps(payload))
        return
    cli_console().print(render(report))
