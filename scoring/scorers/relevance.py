"""Relevance: does the answer cover what was asked (the prompt's key terms and expected keywords)?

Three parts: IDF-weighted recall of the prompt's content terms, coverage of the expected
keywords, and focus (how much of the answer's vocabulary is about the request at all). Keyword
stuffing, a bag of requested terms with little prose around them, is penalised rather than
rewarded, so recall cannot be bought by repeating the prompt's words.
"""

from __future__ import annotations

from collections import Counter

from scoring.scorers.base import dimension_score
from scoring.text import AnalysedText, stem, words
from scoring.types import Dimension, DimensionScore, Sample

# A stuffed answer repeats the same few requested terms; prose rarely gives one term more than
# this share of its tokens.
STUFFING_DENSITY = 0.15
MIN_TOKENS_FOR_DENSITY = 20


def weighted_recall(terms: dict[str, float], answer_stems: set[str]) -> float:
    """Share of the prompt's term weight that appears in the answer."""
    total = sum(terms.values())
    if total == 0.0:
        return 1.0
    return sum(w for t, w in terms.items() if t in answer_stems) / total


def keyword_coverage(keywords: tuple[str, ...], lowered: str, answer_stems: set[str]) -> float:
    """Share of the expected keywords (phrases, case-insensitive, stem-tolerant) found in the answer."""
    if not keywords:
        return 1.0
    found = 0
    for keyword in keywords:
        kw_stems = {stem(w) for w in words(keyword)}
        if keyword.lower() in lowered or (kw_stems and kw_stems <= answer_stems):
            found += 1
    return found / len(keywords)


def focus(terms: dict[str, float], topic_stems: set[str]) -> float:
    """Share of the answer's content-term weight (`terms`) that belongs to the request's topic terms."""
    total = sum(terms.values())
    if total == 0.0:
        return 0.0
    return sum(w for t, w in terms.items() if t in topic_stems) / total


def stuffing(answer_tokens: list[str], topic_stems: set[str]) -> float:
    """0 for prose; toward 1 when a few topic terms make up most of the answer (a keyword dump)."""
    if len(answer_tokens) < MIN_TOKENS_FOR_DENSITY:
        return 0.0
    topic_counts = Counter(s for s in map(stem, answer_tokens) if s in topic_stems)
    if not topic_counts:
        return 0.0
    top_share = max(topic_counts.values()) / len(answer_tokens)
    topic_share = sum(topic_counts.values()) / len(answer_tokens)
    # Real answers have connecting words between topic terms; a dump has almost none.
    over = max(0.0, top_share - STUFFING_DENSITY) * 4 + max(0.0, topic_share - 0.5) * 2
    return min(1.0, over)


class RelevanceScorer:
    """Scores how well the answer covers the request."""

    name: str = "relevance"
    dimension: Dimension = "relevance"

    def __init__(self, *, recall_weight: float = 0.5, keyword_weight: float = 0.3, focus_weight: float = 0.5):
        self._weights = (recall_weight, keyword_weight, focus_weight)

    def score(self, sample: Sample) -> DimensionScore:
        """Recall, keyword coverage and focus, minus a keyword-stuffing penalty."""
        return self.score_text(AnalysedText(sample))

    def score_text(self, text: AnalysedText) -> DimensionScore:
        """`score` on an analysed sample."""
        sample, tokens = text.sample, text.tokens
        if text.is_empty:
            return dimension_score(0.0, ["empty answer"])
        answer_stems = text.stems
        prompt_terms = text.prompt_terms
        topic = set(prompt_terms) | {stem(w) for k in sample.expected_keywords for w in words(k)}
        recall = weighted_recall(prompt_terms, answer_stems)
        keywords = keyword_coverage(sample.expected_keywords, text.lowered, answer_stems)
        on_topic = focus(text.terms, topic)
        w_recall, w_kw, w_focus = self._weights
        if not sample.expected_keywords:
            w_recall, w_kw = w_recall + w_kw, 0.0
        value = 10.0 * (w_recall * recall + w_kw * keywords + w_focus * min(1.0, 2 * on_topic))
        value /= w_recall + w_kw + w_focus
        stuffed = stuffing(tokens, topic)
        value *= 1.0 - 0.8 * stuffed
        reasons = [f"prompt terms {recall:.0%}", f"focus {on_topic:.0%}"]
        if sample.expected_keywords:
            reasons.insert(1, f"keywords {keywords:.0%}")
        if stuffed > 0:
            reasons.append(f"keyword stuffing {stuffed:.0%}")
        return dimension_score(value, reasons)
