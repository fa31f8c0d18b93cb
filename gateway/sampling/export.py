"""Stored scored samples as training data for the next fine-tuning round, or as a full JSONL dump.

``mistral-ft`` writes Mistral's fine-tuning format exactly — one ``{"messages": [...]}`` object
per line: the (redacted) prompt messages, then the production answer as the last assistant
message — and nothing else on the line, because the format allows no extra keys. A sample is
*flagged* for human rewriting when its score on the chosen dimension is below ``--below`` (or,
without ``--below``, when it failed the pass threshold). Flags travel in-band the one way the
format allows: the final assistant message of a flagged sample carries ``"weight": 0``, so a file
uploaded before review never trains on a bad answer. The reviewer rewrites that answer and
removes the weight (or sets it to 1). Earlier assistant turns of a conversation were never
reviewed either, so they always carry ``"weight": 0``. Conversations with tool messages are
skipped (the training format needs their tool calls, which sampling does not keep).

Beside the training file, a *review sheet* (JSONL, same line order) says for each line which
request, agent, variant and model it came from, whether it is flagged, and every dimension's score
and explanation — what a reviewer needs to know what to fix. ``jsonl`` writes the stored samples
whole (record, every score and explanation) with a ``flagged`` field.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from gateway.sampling.record import ScoredSample

TRAINABLE_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True)
class Selection:
    """Which stored samples to export and which to flag."""

    dimension: str = "overall"
    below: float | None = None
    """Export only samples under this score on ``dimension`` (all of them flagged); None: all."""
    variant: str | None = None

    def matches(self, scored: ScoredSample) -> bool:
        if self.variant is not None and scored.record.variant != self.variant:
            return False
        return self.below is None or scored.value(self.dimension) < self.below

    def flagged(self, scored: ScoredSample) -> bool:
        if self.below is not None:
            return scored.value(self.dimension) < self.below
        return not scored.passed


def selected(samples: Iterable[ScoredSample], selection: Selection) -> Iterator[ScoredSample]:
    return (s for s in samples if selection.matches(s))


def training_line(scored: ScoredSample, *, flagged: bool) -> dict[str, Any] | None:
    """The Mistral fine-tuning object of one sample, or None when it cannot be one."""
    messages: list[dict[str, Any]] = []
    for message in scored.record.messages:
        if message.role not in TRAINABLE_ROLES:
            return None
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.role == "assistant":
            entry["weight"] = 0
        messages.append(entry)
    if not any(m["role"] == "user" for m in messages):
        return None
    final: dict[str, Any] = {"role": "assistant", "content": scored.record.answer}
    if flagged:
        final["weight"] = 0
    messages.append(final)
    return {"messages": messages}


def review_line(scored: ScoredSample, *, line: int, flagged: bool, selection: Selection) -> dict[str, Any]:
    """What a reviewer needs about training line ``line``."""
    rec = scored.record
    return {
        "line": line,
        "request_id": rec.request_id,
        "agent": rec.agent,
        "variant": rec.variant,
        "model": rec.model,
        "flag": "rewrite" if flagged else "keep",
        "dimension": selection.dimension,
        "value": scored.value(selection.dimension),
        "overall": scored.overall,
        "passed": scored.passed,
        "scores": {d: {"value": r.value, "explanation": r.explanation} for d, r in scored.dimensions.items()},
        "scored_at": scored.scored_at,
    }


def full_line(scored: ScoredSample, *, flagged: bool) -> dict[str, Any]:
    """Everything stored about one sample, for ``--format jsonl``."""
    data: dict[str, Any] = msgspec.to_builtins(scored)
    data["flagged"] = flagged
    return data


@dataclass(slots=True)
class ExportCounts:
    written: int = 0
    flagged: int = 0
    skipped: int = 0
    """Samples that cannot be training lines (tool messages, no user turn)."""
