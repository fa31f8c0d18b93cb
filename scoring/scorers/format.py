"""Format: does the answer's shape fit the request?

Rewards lists where steps or items are asked for, code blocks where code is asked for, and the
requested number of items; penalises unclosed code fences, truncation, answers far longer than
a brevity request allows, long walls of text without structure, and answers missing what the
request implies (a link, an email's greeting or sign-off, code, a number).
"""

from __future__ import annotations

import math
import re

from scoring.profiles import Profiles
from scoring.scorers.base import dimension_score
from scoring.scorers.instructions import (
    answer_items,
    missing_outputs,
    requested_count,
    sentence_limit,
    word_limit,
)
from scoring.text import AnalysedText, saturate, word_count
from scoring.types import Dimension, DimensionScore, Sample

FENCE_RE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)
LIST_ITEM_RE = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|[a-z][.)])\s+\S", re.MULTILINE)
HEADING_RE = re.compile(r"^\s*(?:#{1,6}\s+\S|\*\*[^*\n]{2,60}\*\*:?\s*$|[A-Z][^\n]{2,50}:\s*$)", re.MULTILINE)
STEPS_ASKED_RE = re.compile(
    r"\b(steps?|step-by-step|how (?:do|can|to|should)|list|bullet|outline|checklist|ways|tips|procedure)\b",
    re.IGNORECASE,
)
CODE_ASKED_RE = re.compile(
    r"\b(code|function|script|snippet|implement|regex|sql|query|python|javascript|bash|pytest|class)\b",
    re.IGNORECASE,
)
BRIEF_ASKED_RE = re.compile(
    r"\b(one|single|1|a) (?:sentence|word|line|phrase)\b|\bbriefly\b|\bconcise(?:ly)?\b|\bshort\b|"
    r"\bin (?:\d+|one|two|three|a few) words\b|\bone-sentence\b|\btweet\b|\bheadline\b|\btitle\b",
    re.IGNORECASE,
)
TERMINAL_RE = re.compile(r"[.!?)\]}\"'`*:;>|]\s*$|```\s*$")
WALL_OF_TEXT_WORDS = 160
BRIEF_LIMIT_WORDS = 60
# Length fit, tuned on the tune half of the human pairwise sets: answers under a couple of
# dozen words rarely satisfy, and answers much longer than the request (or than the agent's
# length budget, whichever is larger) tend to wander off it. Both penalties grow smoothly so
# near-equal answers are not split by a cliff.
SHORT_SCALE_WORDS = 20.0
SHORT_PENALTY = 3.0
LONG_RATIO = 1.0
LONG_PENALTY = 1.5
# Instruction constraints: a wrong number of items, or an answer past a stated word limit (with
# some slack: "a 100-word story" is a target, not a hard cap).
COUNT_PENALTY = 2.5
# Each thing the request implies but the answer lacks (a link, an email's greeting, code, a number).
MISSING_OUTPUT_PENALTY = 2.0
LIMIT_SLACK = 1.2


def limit_penalties(text: AnalysedText) -> list[tuple[float, str]]:
    """Penalties for breaking a word or sentence limit the prompt states."""
    out: list[tuple[float, str]] = []
    words_allowed = word_limit(text.prompt)
    if words_allowed is not None and text.n_words > LIMIT_SLACK * words_allowed:
        over = text.n_words / words_allowed - 1.0
        out.append((min(4.0, 1.0 + 2.0 * over), f"{text.n_words} words for {words_allowed} allowed"))
    sentences_allowed = sentence_limit(text.prompt)
    given = len(text.sentence_lengths)
    if sentences_allowed is not None and given > sentences_allowed:
        out.append((min(3.0, float(given - sentences_allowed)), f"{given} sentences for {sentences_allowed} asked"))
    return out


def looks_truncated(sample: Sample) -> bool:
    """The model stopped early, or a long answer ends mid-sentence."""
    if sample.finish_reason in ("length", "error"):
        return True
    # Only a prose last line can be judged: list items and labels legitimately end bare.
    last_line = sample.answer.rstrip().rsplit("\n", 1)[-1]
    if LIST_ITEM_RE.match(last_line) or word_count(last_line) < 12:
        return False
    return TERMINAL_RE.search(last_line) is None


def longest_paragraph(answer: str) -> int:
    """Word count of the longest paragraph: a wall of text is hard to read."""
    return max((word_count(p) for p in answer.split("\n\n")), default=0)


class FormatScorer:
    """Scores how well the answer's structure fits the request."""

    name: str = "format"
    dimension: Dimension = "format"

    def __init__(self, profiles: Profiles | None = None) -> None:
        self._profiles = profiles or Profiles()

    def score(self, sample: Sample) -> DimensionScore:
        """Start from 10 and subtract for each structural mismatch."""
        return self.score_text(AnalysedText(sample))

    def score_text(self, text: AnalysedText) -> DimensionScore:
        """`score` on an analysed sample."""
        sample, answer, prompt = text.sample, text.answer, text.prompt
        n_words = text.n_words
        if text.is_empty:
            return dimension_score(0.0, ["empty answer"])
        penalties: list[tuple[float, str]] = []
        penalties += self._fences(answer)
        penalties += self._shape(prompt, answer, n_words)
        budget = self._profiles.for_agent(sample.agent).length_budget_words
        penalties += self._length(text, budget)
        if looks_truncated(sample):
            penalties.append((3.0, "truncated"))
        value = 10.0 - sum(p for p, _ in penalties)
        return dimension_score(value, [reason for _, reason in penalties if reason])

    @staticmethod
    def _fences(answer: str) -> list[tuple[float, str]]:
        if len(FENCE_RE.findall(answer)) % 2:
            return [(4.0, "unclosed code block")]
        return []

    @staticmethod
    def _shape(prompt: str, answer: str, n_words: int) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        items = len(LIST_ITEM_RE.findall(answer))
        wanted = requested_count(prompt)
        if STEPS_ASKED_RE.search(prompt) and items < 2 and n_words > 40:
            out.append((2.0, "steps asked, no list"))
        if wanted is not None:
            given = answer_items(answer)
            if given != wanted:
                out.append((COUNT_PENALTY, f"{given} items for {wanted} asked"))
        out += [(MISSING_OUTPUT_PENALTY, f"no {kind} given") for kind in missing_outputs(prompt, answer)]
        if CODE_ASKED_RE.search(prompt) and "```" not in answer and "`" not in answer and n_words > 60:
            out.append((1.0, "code asked, none formatted"))
        if longest_paragraph(answer) > WALL_OF_TEXT_WORDS and not HEADING_RE.search(answer) and items < 2:
            out.append((1.5, "wall of text"))
        return out

    @staticmethod
    def _length(text: AnalysedText, budget: int) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        prompt, n_words = text.prompt, text.n_words
        # Sane length: a few words rarely answer a real request; past a few sentences length
        # earns nothing more here.
        short = SHORT_PENALTY * (1.0 - saturate(n_words, SHORT_SCALE_WORDS))
        if short > 0.0:
            out.append((short, "short" if short > 0.5 else ""))
        ratio = (n_words + 1) / (max(len(text.prompt_tokens), budget) + 1)
        if ratio > LONG_RATIO:
            out.append((LONG_PENALTY * math.log(ratio / LONG_RATIO), "long for the request"))
        if BRIEF_ASKED_RE.search(prompt) and n_words > BRIEF_LIMIT_WORDS:
            out.append((min(4.0, n_words / BRIEF_LIMIT_WORDS), "too long for a brief answer"))
        out += limit_penalties(text)
        if len(text.sentence_lengths) == 1 and n_words > 120:
            out.append((1.0, "one run-on sentence"))
        return out
