"""Agreement with humans: how often each scorer prefers the answer people preferred.

Reads human pairwise JSONL files (rows `{"id", "prompt", "chosen", "rejected", ...}`, the
human-preferred answer always `chosen`), scores both answers with the composite, and reports for
every dimension, for "overall" (the composite) and for a "length" baseline the agreement: the
share of pairs where score(chosen) > score(rejected). A tie counts 0.5 (half a pair), so a scorer
that cannot tell the answers apart sits at 50 %, the same as a coin.

Held-out split: a pair is held out when the first byte of sha256(id) is odd, and belongs to the
tune half when it is even. Weights and constants are tuned on the tune half only; the held-out
figure is the headline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from rich.table import Table

from scoring.composite import Composite
from scoring.types import DIMENSIONS, Message, Sample, Score

VALIDATION_AGENT = "default"
SCORER_NAMES: tuple[str, ...] = (*DIMENSIONS, "overall", "length")


class PairwiseFileError(ValueError):
    """A pairwise file is missing or has a malformed row."""


class PairRow(BaseModel):
    """One human judgement: the same prompt, the preferred and the rejected answer."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    prompt: str
    chosen: str
    rejected: str


class ScorerAgreement(BaseModel):
    """One scorer's agreement with humans on one file."""

    model_config = ConfigDict(frozen=True)

    scorer: str
    full: float
    held_out: float


class FileAgreement(BaseModel):
    """Agreement of every scorer on one file."""

    model_config = ConfigDict(frozen=True)

    file: str
    pairs: int
    held_out_pairs: int
    scorers: tuple[ScorerAgreement, ...]

    def full(self, scorer: str) -> float:
        """Full-set agreement of one scorer."""
        return next(s.full for s in self.scorers if s.scorer == scorer)

    def held_out(self, scorer: str) -> float:
        """Held-out agreement of one scorer."""
        return next(s.held_out for s in self.scorers if s.scorer == scorer)


class AgreementReport(BaseModel):
    """Agreement per file."""

    model_config = ConfigDict(frozen=True)

    files: tuple[FileAgreement, ...]


def is_held_out(pair_id: str) -> bool:
    """The split rule: held out when the first byte of sha256(id) is odd."""
    return hashlib.sha256(pair_id.encode("utf-8")).digest()[0] % 2 == 1


def load_pairs(path: Path) -> list[PairRow]:
    """Read a pairwise JSONL file; a bad row fails with its line number and field."""
    rows: list[PairRow] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PairwiseFileError(f"{path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(PairRow.model_validate_json(line))
        except ValidationError as exc:
            where = ".".join(map(str, exc.errors()[0]["loc"])) or "row"
            raise PairwiseFileError(f"{path}:{number}: {where}: {exc.errors()[0]['msg']}") from exc
    return rows


def sample_for(prompt: str, answer: str) -> Sample:
    """A validation sample: default agent, the prompt as one user message."""
    return Sample(agent=VALIDATION_AGENT, messages=(Message(role="user", content=prompt),), answer=answer)


def scorer_values(score: Score, answer: str) -> dict[str, float]:
    """Every compared value of one scored answer, by scorer name."""
    values: dict[str, float] = {d: score.dimensions[d].value for d in DIMENSIONS}
    values["overall"] = score.overall
    values["length"] = float(len(answer))
    return values


def pair_outcome(chosen: float, rejected: float) -> float:
    """1 when the chosen answer scores higher, 0.5 on a tie, 0 otherwise."""
    if chosen > rejected:
        return 1.0
    return 0.5 if chosen == rejected else 0.0


def agreement(outcomes: Sequence[dict[str, float]], scorer: str) -> float:
    """Mean outcome of one scorer over some pairs (0.5 when there are none)."""
    if not outcomes:
        return 0.5
    return sum(o[scorer] for o in outcomes) / len(outcomes)


def pair_outcomes(composite: Composite, row: PairRow) -> dict[str, float]:
    """Every scorer's outcome on one pair."""
    chosen = scorer_values(composite.score(sample_for(row.prompt, row.chosen)), row.chosen)
    rejected = scorer_values(composite.score(sample_for(row.prompt, row.rejected)), row.rejected)
    return {name: pair_outcome(chosen[name], rejected[name]) for name in SCORER_NAMES}


def validate_rows(name: str, rows: Sequence[PairRow], composite: Composite) -> FileAgreement:
    """Agreement of every scorer over some rows, full and held out."""
    outcomes = [pair_outcomes(composite, row) for row in rows]
    held = [o for o, row in zip(outcomes, rows, strict=True) if is_held_out(row.id)]
    return FileAgreement(
        file=name,
        pairs=len(rows),
        held_out_pairs=len(held),
        scorers=tuple(
            ScorerAgreement(scorer=s, full=agreement(outcomes, s), held_out=agreement(held, s)) for s in SCORER_NAMES
        ),
    )


def validate_files(paths: Iterable[Path], composite: Composite | None = None) -> AgreementReport:
    """Agreement of every scorer on each file (heuristic composite unless one is given)."""
    composite = composite or Composite()
    return AgreementReport(
        files=tuple(validate_rows(p.name, load_pairs(p), composite) for p in paths),
    )


def render(report: AgreementReport) -> Table:
    """A rich table: one row per scorer, held-out and full agreement per file."""
    table = Table(title="Agreement with human preferences (ties count 0.5)")
    table.add_column("scorer")
    for f in report.files:
        table.add_column(f"{f.file}\nheld-out (n={f.held_out_pairs})", justify="right")
        table.add_column(f"{f.file}\nfull (n={f.pairs})", justify="right")
    for scorer in SCORER_NAMES:
        cells = [f"{getattr(f, kind)(scorer):.1%}" for f in report.files for kind in ("held_out", "full")]
        table.add_row(scorer, *cells, style="bold" if scorer == "overall" else None)
    return table
