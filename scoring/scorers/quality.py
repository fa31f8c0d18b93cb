"""Quality: is the answer clear, fresh, committed and in the right tone for the agent?

Starts from 10 and subtracts for repetition (repeated n-grams, list items named twice), refusals,
hedging, truncation (finish_reason "length"/"error"), run-on sentences, echoing the prompt,
prompt-template artefacts ("### Response", "<|endoftext|>"), and a tone that misses the agent's
profile (missing empathy for support, casual slang for legal).
"""

from __future__ import annotations

import re

from scoring.profiles import Profiles, SignalWeights
from scoring.scorers.base import dimension_score
from scoring.text import AnalysedText, ngrams, repeated_ngram_share
from scoring.types import Dimension, DimensionScore, Sample

REFUSAL_RE = re.compile(
    r"\b(?:i(?:'m| am) (?:sorry|afraid),? but i (?:can(?:not|'t)|am unable|won't)|"
    r"i can(?:not|'t) (?:help|assist|provide|do that)|as an ai(?: language model)?|"
    r"i(?:'m| am) (?:not able|unable) to|i do not have (?:access|the ability))",
)
HEDGE_RE = re.compile(
    r"\b(?:i think|i guess|i believe|maybe|perhaps|possibly|probably|not sure|might be|could be|kind of|"
    r"sort of|i'm not certain|hard to say)\b",
)
EMPATHY_RE = re.compile(
    r"\b(?:sorry|apologi[sz]e|understand|frustrat\w*|thank you|thanks for|happy to help|glad to|"
    r"i hear you|appreciate|i know how)\b",
)
SLANG_RE = re.compile(r"\b(?:lol|gonna|wanna|kinda|dude|awesome|super easy|no worries|btw|omg)\b|!!+")
# Words every match of the pattern above contains: when none occurs, the pattern is not run.
REFUSAL_WORDS = frozenset(("sorry", "afraid", "cannot", "can't", "ai", "unable", "able", "access", "ability"))
HEDGE_WORDS = frozenset(
    [
        "think",
        "guess",
        "believe",
        "maybe",
        "perhaps",
        "possibly",
        "probably",
        "sure",
        "might",
        "could",
        "kind",
        "sort",
        "certain",
        "hard",
    ]
)
RUN_ON_WORDS = 45
# The phrase patterns above are lower-case and run on the lower-cased answer: much faster than
# re.IGNORECASE on long alternations.


def repetition_penalty(tokens: list[str]) -> tuple[float, str | None]:
    """Penalty for looping text: repeated 3-grams beyond what normal prose has."""
    share = repeated_ngram_share(tokens, 3)
    # Continuous from zero: even light repetition (restating the same phrase) reads worse, and a
    # loop (share above ~0.3) costs most of the score.
    penalty = min(6.0, share * 12.0)
    return penalty, (f"repetition {share:.0%}" if share > 0.05 else None)


def tone_penalty(lowered: str, signals: SignalWeights) -> tuple[float, str | None]:
    """Penalty when the tone misses the agent's profile (takes the lower-cased answer)."""
    penalty, reasons = 0.0, []
    if signals.empathy > 0 and EMPATHY_RE.search(lowered) is None:
        penalty += 1.5 * signals.empathy
        reasons.append("no empathy")
    slang = len(SLANG_RE.findall(lowered)) if signals.formality > 0 else 0
    if slang:
        penalty += min(3.0, slang * signals.formality)
        reasons.append("casual tone")
    return penalty, ", ".join(reasons) or None


ECHO_PENALTY = 3.0
LOW_DIVERSITY_PENALTY = 2.0
# A list that names the same item twice is degenerate output (a sampling loop), even when each
# line is short enough that the 3-gram repetition share stays low.
DUPLICATE_ITEM_PENALTY = 1.5
ITEM_MARKER_RE = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]*", re.MULTILINE)
ITEM_EDGE_CHARS = " \t.,;:!?\"'*_`"


def duplicate_items(lowered: str) -> int:
    """How many lines of a (lower-cased) answer repeat an earlier line, list markers and edge punctuation ignored."""
    if "\n" not in lowered:
        return 0  # one line: nothing to repeat (the 3-gram share covers repetition within it)
    lines = [line.strip(ITEM_EDGE_CHARS) for line in ITEM_MARKER_RE.sub("", lowered).splitlines()]
    items = [line for line in lines if line]
    return len(items) - len(set(items))


# Prompt-template text leaking into an answer: the model continued the training format instead
# of answering ("### Response:", "Output:", "<|endoftext|>", "</s>").
ARTEFACT_RE = re.compile(
    r"<\|[a-z_]{3,20}\|>|</s>|^\s*#{2,}\s*(?:instruction|input|response|output)\b|"
    r"^\s*(?:instruction|input|output|response)\s*:\s*$",
    re.MULTILINE,
)
# Every match contains one of these: when none occurs the pattern is not run.
ARTEFACT_MARKS = ("<|", "</s>", "instruction", "input", "output", "response")
ARTEFACT_PENALTY = 2.0


def artefact_penalty(lowered: str) -> tuple[float, str | None]:
    """Penalty for prompt-template text leaking into the answer (takes the lower-cased answer)."""
    if any(mark in lowered for mark in ARTEFACT_MARKS) and ARTEFACT_RE.search(lowered):
        return ARTEFACT_PENALTY, "template artefact"
    return 0.0, None


def duplicate_penalty(lowered: str) -> tuple[float, str | None]:
    """Penalty for a list or text that repeats an item or line word for word (takes the lower-cased answer)."""
    duplicates = duplicate_items(lowered)
    if not duplicates:
        return 0.0, None
    return DUPLICATE_ITEM_PENALTY, f"{duplicates} repeated items"


def echo_penalty(prompt_tokens: list[str], tokens: list[str]) -> tuple[float, str | None]:
    """Penalty for copying the prompt back: the share of the answer's 4-grams found in the prompt."""
    grams = list(ngrams(tokens, 4))
    if not grams:
        return 0.0, None
    prompt_grams = set(ngrams(prompt_tokens, 4))
    share = sum(1 for g in grams if g in prompt_grams) / len(grams)
    return ECHO_PENALTY * share, (f"copies the prompt {share:.0%}" if share > 0.3 else None)


def diversity_penalty(tokens: list[str], distinct: int | None = None) -> tuple[float, str | None]:
    """Penalty for a small vocabulary relative to length (distinct words per word)."""
    diversity = (len(set(tokens)) if distinct is None else distinct) / len(tokens)
    return LOW_DIVERSITY_PENALTY * (1.0 - diversity), None


class QualityScorer:
    """Scores clarity, repetition, refusals, hedging, truncation and tone."""

    name: str = "quality"
    dimension: Dimension = "quality"

    def __init__(self, profiles: Profiles | None = None) -> None:
        self._profiles = profiles or Profiles()

    def score(self, sample: Sample) -> DimensionScore:
        """Start from 10 and subtract each penalty that applies."""
        return self.score_text(AnalysedText(sample))

    def score_text(self, text: AnalysedText) -> DimensionScore:
        """`score` on an analysed sample."""
        sample, tokens = text.sample, text.tokens
        if text.is_empty:
            return dimension_score(0.0, ["empty answer"])
        signals = self._profiles.for_agent(sample.agent).signals
        lowered = text.lowered
        found = [
            repetition_penalty(tokens),
            self._refusal_and_hedging(text),
            self._clarity(text.sentence_lengths),
            tone_penalty(lowered, signals),
            echo_penalty(text.prompt_tokens, tokens),
            diversity_penalty(tokens, len(text.token_set)),
            duplicate_penalty(lowered),
            artefact_penalty(lowered),
        ]
        if sample.finish_reason in ("length", "error"):
            found.append((3.0, f"finish_reason {sample.finish_reason}"))
        value = 10.0 - sum(p for p, _ in found)
        return dimension_score(value, [r for _, r in found if r])

    @staticmethod
    def _refusal_and_hedging(text: AnalysedText) -> tuple[float, str | None]:
        penalty, reasons = 0.0, []
        lowered, n_words, present = text.lowered, text.n_words, text.token_set
        if not REFUSAL_WORDS.isdisjoint(present) and REFUSAL_RE.search(lowered):
            penalty += 5.0
            reasons.append("refusal")
        hedges = len(HEDGE_RE.findall(lowered)) if not HEDGE_WORDS.isdisjoint(present) else 0
        if hedges:
            penalty += min(3.0, 1.5 * hedges * 50 / max(n_words, 50))
            reasons.append(f"hedging {hedges}")
        return penalty, ", ".join(reasons) or None

    @staticmethod
    def _clarity(lengths: list[int]) -> tuple[float, str | None]:
        run_ons = sum(1 for n in lengths if n > RUN_ON_WORDS)
        if not run_ons:
            return 0.0, None
        return min(2.0, 0.7 * run_ons), f"run-on sentences {run_ons}"
