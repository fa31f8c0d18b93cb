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
from scoring.text import AnalysedText, saturate, words
from scoring.types import Dimension, DimensionScore, Sample

# Every pattern below runs on the lower-cased answer without re.IGNORECASE (several times faster
# on long alternations); the few case-sensitive ones (proper names) run on the original text.
# Patterns that would start with a look-behind start with their first literal character
# instead (the engine skips to it) and check the character before in code.
NUMBER_RE = re.compile(r"[$€£]?\d[\d,.]*(?:\s?(?:%|ms|s|kb|mb|gb|k|m|x|h|days?|hours?|usd|eur))?\b")
INLINE_CODE_RE = re.compile(r"`[^`\n]{1,80}`")
CODE_BLOCK_RE = re.compile(r"```[\s\S]*?```")
PROMPT_LINE_RE = re.compile(r"^[ \t]*[$>]\s+\S", re.M)
FILE_EXT_RE = re.compile(r"\.(?:py|js|ts|json|ya?ml|toml|sql|csv|md|sh|cfg|ini)\b")
COMMAND_WORDS = frozenset(("pip", "npm", "git", "docker", "kubectl", "pytest", "curl", "make", "python", "sudo", "apt"))
# Flags are matched from their literal dash (fast) and checked for a word boundary in code.
FLAG_RE = re.compile(r"--?[a-z][\w-]+")
CITATION_RE = re.compile(
    r"\b(?:gdpr|ccpa|hipaa|soc ?2|pci[- ]dss|iso(?:/iec)? ?\d{3,5}|rfc ?\d{3,5}|pep ?\d{1,4}|isbn|doi|"
    r"art(?:icle|\.)\s?\d+|section\s\d+|\d+\s?u\.s\.c\.|v\.\s[a-z]|et al\.|"
    r"directive\s\d|regulation\s\(?e?u?\)?)"
    r"|§\s?\d+|https?://\S+|\(\d{4}\)",
)
STEP_RE = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+\S", re.M)
PROPER_NOUN_RE = re.compile(r"(?<=[a-z,;] )[A-Z][a-zA-Z0-9]+")
VAGUE_RE = re.compile(
    r"\b(?:it depends|various (?:factors|things|ways|aspects)|many (?:things|factors|ways)|a lot of things|"
    r"and so on|etc\.?|stuff|things like that|in general|generally speaking|some things|certain things|"
    r"in many ways|to some extent|it is important to (?:note|consider)|"
    r"there are (?:many|several) (?:ways|factors)|"
    r"best practices|as needed|appropriate(?:ly)?|relevant factors)\b",
)
# Words every filler match contains: when none occurs, the pattern is not run.
VAGUE_WORDS = frozenset(
    [
        "depends",
        "various",
        "many",
        "lot",
        "so",
        "etc",
        "stuff",
        "things",
        "general",
        "generally",
        "some",
        "certain",
        "extent",
        "important",
        "several",
        "practices",
        "needed",
        "appropriate",
        "appropriately",
        "relevant",
    ]
)
# Code identifiers are found from their rare characters (`@`, `.` before a letter, `_`, `()`),
# which the regex engine can skip to, instead of testing every word.
DECORATOR_RE = re.compile(r"@[a-z_][\w.]*")
DOTTED_RE = re.compile(r"\.[a-z_]\w*")
SNAKE_RE = re.compile(r"_[a-z]")


def code_tokens(prose: str) -> int:
    """Identifiers only technical answers use: decorators, dotted names, snake_case names, calls."""
    dotted = sum(1 for m in DOTTED_RE.finditer(prose) if prose[max(m.start() - 3, 0) : m.start()].isidentifier())
    snake = sum(1 for m in SNAKE_RE.finditer(prose) if m.start() and prose[m.start() - 1].isalpha())
    return len(DECORATOR_RE.findall(prose)) + dotted + snake + prose.count("()")


def count_numbers(prose: str) -> int:
    """Figures (with an optional currency or unit) that are not part of a word or a dotted name."""
    return sum(1 for m in NUMBER_RE.finditer(prose) if m.start() == 0 or not _number_glued(prose[m.start() - 1]))


def count_commands(lowered: str, tokens: list[str]) -> int:
    """Shell prompts, file names with a known extension, CLI flags and command names."""
    files = sum(1 for m in FILE_EXT_RE.finditer(lowered) if m.start() and _word_char(lowered[m.start() - 1]))
    names = sum(1 for t in tokens if t in COMMAND_WORDS)
    return len(PROMPT_LINE_RE.findall(lowered)) + files + names + count_flags(lowered)


def count_flags(lowered: str) -> int:
    """CLI flags (`-n`, `--verbose`) that start a word."""
    return sum(1 for m in FLAG_RE.finditer(lowered) if m.start() == 0 or not _word_char(lowered[m.start() - 1]))


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _number_glued(char: str) -> bool:
    return char.isalnum() or char in "_."


def detail_counts(answer: str, lowered: str | None = None, tokens: list[str] | None = None) -> dict[str, int]:
    """How many concrete details of each kind the answer contains (lower-cased text and tokens if known)."""
    lowered = answer.lower() if lowered is None else lowered
    tokens = words(answer) if tokens is None else tokens
    has_blocks = "```" in answer
    without_blocks = CODE_BLOCK_RE.sub(" ", answer) if has_blocks else answer
    lowered_prose = CODE_BLOCK_RE.sub(" ", lowered) if has_blocks else lowered
    return {
        "numbers": count_numbers(lowered_prose),
        "code": 3 * len(CODE_BLOCK_RE.findall(answer))
        + len(INLINE_CODE_RE.findall(without_blocks))
        + code_tokens(without_blocks),
        "commands": count_commands(lowered, tokens),
        "citations": len(CITATION_RE.findall(lowered)),
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
        return self.score_text(AnalysedText(sample))

    def score_text(self, text: AnalysedText) -> DimensionScore:
        """`score` on an analysed sample."""
        n_words = text.n_words
        if text.is_empty:
            return dimension_score(0.0, ["empty answer"])
        signals = self._profiles.for_agent(text.sample.agent).signals
        counts = detail_counts(text.answer, text.lowered, text.tokens)
        detail = weighted_detail(counts, signals)
        # The filler pattern is lower-case: faster than re.IGNORECASE.
        vague = len(VAGUE_RE.findall(text.lowered)) if not VAGUE_WORDS.isdisjoint(text.token_set) else 0
        # Absolute count and density both matter: one number in a one-line answer is specific,
        # one number in 600 words is not.
        density = detail / max(n_words / 50.0, 1.0)
        value = 3.0 + 4.0 * saturate(detail, 4.0) + 3.0 * saturate(density, 1.5) - 1.5 * vague
        reasons = [f"{k} {v}" for k, v in counts.items() if v]
        if vague:
            reasons.append(f"vague filler {vague}")
        return dimension_score(value, reasons or ["no concrete details"])
