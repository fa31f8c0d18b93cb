"""Specificity: how concrete is the answer?

Counts concrete details (figures and units, commands and paths, code, named standards and
citations, steps) weighted by the agent's profile, and subtracts for vague filler ("it depends",
"various factors", "and so on"). Counts saturate, so a few real details earn most of the credit
and padding with more does not.
"""

from __future__ import annotations

import re

from scoring.profiles import Profiles, SignalWeights
from scoring.scorers.base import dimension_score
from scoring.text import saturate, words
from scoring.types import Dimension, DimensionScore, Sample

NUMBER_RE = re.compile(r"(?<![\w.])[$€£]?\d[\d,.]*(?:\s?(?:%|ms|s|kb|mb|gb|k|m|x|h|days?|hours?|usd|eur))?\b", re.I)
INLINE_CODE_RE = re.compile(r"`[^`\n]{1,80}`")
CODE_BLOCK_RE = re.compile(r"```[\s\S]*?```")
COMMAND_RE = re.compile(
    r"(?:^\s*[$>]\s+\S|(?<!\w)--?[a-z][\w-]+|\b[\w./-]+\.(?:py|js|ts|json|ya?ml|toml|sql|csv|md|sh|cfg|ini)\b|"
    r"\b(?:pip|npm|git|docker|kubectl|pytest|curl|make|python|sudo|apt)\s+\w)",
    re.I | re.M,
)
CITATION_RE = re.compile(
    r"\b(?:GDPR|CCPA|HIPAA|SOC ?2|PCI[- ]DSS|ISO(?:/IEC)? ?\d{3,5}|RFC ?\d{3,5}|PEP ?\d{1,4}|ISBN|DOI|"
    r"Art(?:icle|\.)\s?\d+|Section\s\d+|§\s?\d+|\d+\s?U\.S\.C\.|v\.\s[A-Z]|et al\.|"
    r"Directive\s\d|Regulation\s\(?E?U?\)?)"
    r"|https?://\S+|\(\d{4}\)",
    re.I,
)
# Identifiers that only appear in technical answers: decorators, dotted calls, snake_case names.
CODE_TOKEN_RE = re.compile(r"@[a-z_][\w.]*|\b[a-z_]\w{2,}(?:\.\w+)+\(?|\b[a-z]+_[a-z_]+\b|\b\w+\(\)")
STEP_RE = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+\S", re.M)
PROPER_NOUN_RE = re.compile(r"(?<=[a-z,;] )[A-Z][a-zA-Z0-9]+")
VAGUE_RE = re.compile(
    r"\b(?:it depends|various (?:factors|things|ways|aspects)|many (?:things|factors|ways)|a lot of things|"
    r"and so on|etc\.?|stuff|things like that|in general|generally speaking|some things|certain things|"
    r"in many ways|to some extent|it is important to (?:note|consider)|"
    r"there are (?:many|several) (?:ways|factors)|"
    r"best practices|as needed|appropriate(?:ly)?|relevant factors)\b",
)


def detail_counts(answer: str) -> dict[str, int]:
    """How many concrete details of each kind the answer contains."""
    without_blocks = CODE_BLOCK_RE.sub(" ", answer)
    return {
        "numbers": len(NUMBER_RE.findall(without_blocks)),
        "code": 3 * len(CODE_BLOCK_RE.findall(answer))
        + len(INLINE_CODE_RE.findall(without_blocks))
        + len(CODE_TOKEN_RE.findall(without_blocks)),
        "commands": len(COMMAND_RE.findall(answer)),
        "citations": len(CITATION_RE.findall(answer)),
        "steps": len(STEP_RE.findall(answer)),
        "names": len(PROPER_NOUN_RE.findall(without_blocks)),
    }


def weighted_detail(counts: dict[str, int], signals: SignalWeights) -> float:
    """Sum of detail counts weighted by the agent's signal weights (proper names count half)."""
    total = 0.5 * counts["names"]
    for kind in ("numbers", "code", "commands", "citations", "steps"):
        total += counts[kind] * float(getattr(signals, kind))
    return total


class SpecificityScorer:
    """Scores how concrete the answer is, with agent-specific weights for each kind of detail."""

    name: str = "specificity"
    dimension: Dimension = "specificity"

    def __init__(self, profiles: Profiles | None = None) -> None:
        self._profiles = profiles or Profiles()

    def score(self, sample: Sample) -> DimensionScore:
        """Saturating credit for weighted details, density-adjusted, minus vague filler."""
        n_words = len(words(sample.answer))
        if n_words == 0:
            return dimension_score(0.0, ["empty answer"])
        signals = self._profiles.for_agent(sample.agent).signals
        counts = detail_counts(sample.answer)
        detail = weighted_detail(counts, signals)
        # Lower-cased once: the filler pattern is lower-case, faster than re.IGNORECASE.
        vague = len(VAGUE_RE.findall(sample.answer.lower()))
        # Absolute count and density both matter: one number in a one-line answer is specific,
        # one number in 600 words is not.
        density = detail / max(n_words / 50.0, 1.0)
        value = 3.0 + 4.0 * saturate(detail, 4.0) + 3.0 * saturate(density, 1.5) - 1.5 * vague
        reasons = [f"{k} {v}" for k, v in counts.items() if v]
        if vague:
            reasons.append(f"vague filler {vague}")
        return dimension_score(value, reasons or ["no concrete details"])
