"""``genesis-gateway export samples``: low-scoring production answers for the next fine-tuning round.

Reads the scored samples the results store keeps (the last ``scoring.keep_last`` per agent,
within ``scoring.retention_s``): from a running gateway's admin API with ``--url`` (either home:
the embedded gateway keeps them in its own memory), or straight from Redis with ``--config`` or
``--redis-url``. Formats and flags are described in ``gateway.sampling.export``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import urllib.parse
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import msgspec
import typer
from redis.exceptions import RedisError

from gateway.cli.flags_cmd import AdminClient, TokenOption
from gateway.sampling.export import ExportCounts, Selection, full_line, review_line, selected, training_line
from gateway.sampling.factory import redis_client
from gateway.sampling.record import ScoredSample
from gateway.sampling.results import RedisScoreStore
from gateway.settings import DEFAULT_REDIS_PREFIX, ConfigError, ScoringSettings, load_config
from scoring.types import DIMENSIONS

app = typer.Typer(help="Export stored data (scored production samples).", no_args_is_help=True)


class Format(StrEnum):
    MISTRAL_FT = "mistral-ft"
    JSONL = "jsonl"


@app.callback()
def export() -> None:
    """Export commands."""


@app.command()
def samples(
    *,
    agent: Annotated[str, typer.Option(help="The agent whose samples to export.")],
    below: Annotated[
        float | None, typer.Option(help="Only samples scoring under this on --dimension (all flagged for rewriting).")
    ] = None,
    dimension: Annotated[str, typer.Option(help="overall, quality, relevance, format or specificity.")] = "overall",
    variant: Annotated[str | None, typer.Option(help="Only candidate or baseline answers.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="mistral-ft (training JSONL) or jsonl (everything).")] = (
        Format.JSONL
    ),
    out: Annotated[Path | None, typer.Option(help="Output file (default: standard output).")] = None,
    review: Annotated[
        Path | None,
        typer.Option(
            help="mistral-ft review sheet (default: beside --out, its suffix replaced: a.jsonl → a.review.jsonl)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many of the newest samples.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", envvar="GATEWAY_CONFIG", help="YAML config.")] = None,
    redis_url: Annotated[str | None, typer.Option(envvar="GATEWAY_REDIS_URL", help="Overrides redis_url.")] = None,
    redis_prefix: Annotated[
        str | None, typer.Option(envvar="GATEWAY_REDIS_PREFIX", help="Overrides redis_prefix (as the gateway does).")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="A running gateway's root URL: read through its admin API instead.")
    ] = None,
    token: TokenOption = None,
) -> None:
    """Write an agent's stored scored samples as Mistral fine-tuning JSONL or as full JSONL."""
    if dimension != "overall" and dimension not in DIMENSIONS:
        _fail(f"--dimension must be overall or one of {', '.join(DIMENSIONS)}, not {dimension!r}")
    stored = (
        _from_gateway(url, token, agent, limit) if url else _from_redis(config, redis_url, redis_prefix, agent, limit)
    )
    selection = Selection(dimension=dimension, below=below, variant=variant)
    chosen = list(selected(stored, selection))
    if fmt is Format.JSONL:
        with _open(out) as stream:
            counts = _write_full(chosen, selection, stream)
    else:
        sheet = review or (out.with_suffix(".review.jsonl") if out is not None else None)
        with _open(out) as stream, _open(sheet, allow_none=True) as sheet_stream:
            counts = _write_training(chosen, selection, stream, sheet_stream)
        if sheet is not None:
            typer.echo(f"review sheet: {sheet}", err=True)
    typer.echo(
        f"{counts.written} samples written ({counts.flagged} flagged for rewriting, {counts.skipped} skipped) "
        f"from {len(stored)} stored for {agent}",
        err=True,
    )


def _from_gateway(url: str, token: str | None, agent: str, limit: int | None) -> list[ScoredSample]:
    path = f"/admin/experiments/{urllib.parse.quote(agent, safe='')}/samples"
    answer = AdminClient(url, token).call("GET", path + (f"?limit={limit}" if limit else ""))
    return msgspec.convert(answer["data"], list[ScoredSample])


def _from_redis(
    config: Path | None, redis_url: str | None, redis_prefix: str | None, agent: str, limit: int | None
) -> list[ScoredSample]:
    settings, url = _settings(config, redis_url, redis_prefix)
    try:
        return asyncio.run(_load(url, settings, agent, limit))
    except (RedisError, OSError) as exc:
        _fail(f"cannot read samples from Redis at {url}: {exc}")


def _settings(config: Path | None, redis_url: str | None, redis_prefix: str | None) -> tuple[ScoringSettings, str]:
    settings, url = ScoringSettings(key_prefix=redis_prefix or DEFAULT_REDIS_PREFIX), redis_url
    if config is not None:
        try:
            loaded = load_config(config).with_redis_prefix(redis_prefix)
        except ConfigError as exc:
            _fail(str(exc))
        settings, url = loaded.scoring, redis_url or loaded.redis_url
    if not url:
        _fail(
            "export reads the stored samples from a running gateway (--url) or from Redis "
            "(--redis-url, or a --config with redis_url)"
        )
    return settings, url


async def _load(url: str, settings: ScoringSettings, agent: str, limit: int | None) -> list[ScoredSample]:
    redis = redis_client(url, settings)
    try:
        return await RedisScoreStore(redis, settings).recent(agent, limit=limit)
    finally:
        await redis.aclose()


def _write_full(chosen: list[ScoredSample], selection: Selection, stream: TextIO) -> ExportCounts:
    counts = ExportCounts()
    for scored in chosen:
        flagged = selection.flagged(scored)
        _line(stream, full_line(scored, flagged=flagged))
        counts.written += 1
        counts.flagged += flagged
    return counts


def _write_training(
    chosen: list[ScoredSample], selection: Selection, stream: TextIO, sheet: TextIO | None
) -> ExportCounts:
    counts = ExportCounts()
    for scored in chosen:
        flagged = selection.flagged(scored)
        line = training_line(scored, flagged=flagged)
        if line is None:
            counts.skipped += 1
            continue
        counts.written += 1
        counts.flagged += flagged
        _line(stream, line)
        if sheet is not None:
            _line(sheet, review_line(scored, line=counts.written, flagged=flagged, selection=selection))
    return counts


def _line(stream: TextIO, obj: dict[str, Any]) -> None:
    stream.write(msgspec.json.encode(obj).decode() + "\n")


@contextlib.contextmanager
def _open(path: Path | None, *, allow_none: bool = False) -> Iterator[Any]:
    if path is None:
        yield None if allow_none else sys.stdout
        return
    with path.open("w", encoding="utf-8") as handle:
        yield handle


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
