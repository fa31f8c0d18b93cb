"""Shared text utilities: tokenizer, stopwords, a tiered IDF table, sentence and n-gram helpers.

Everything here is built once at import (compiled patterns, frozen word sets) so scorers stay
cheap per call. The "IDF" is a tiered approximation instead of a corpus statistic: stopwords
carry no weight, very common English words little, everything else full weight. That needs no
data file and no download, and it ranks prompt terms well enough for recall.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from scoring.types import Sample

WORD_RE = re.compile(r"[a-z0-9][a-z0-9_'\-]*")
# A whole answer that is only a placeholder tag ("<no-output>", "<empty>") says nothing.
PLACEHOLDER_RE = re.compile(r"\s*<[^<>\n]{0,40}>\s*")
MIN_PARROT_WORDS = 4
SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+|\n+")
# For counting sentence lengths only: splits at the same places without a look-behind (faster),
# dropping the end mark, which counting does not need.
SENTENCE_END_RE = re.compile(r"[.!?]\s+|\n+")

_STOPWORD_TEXT = """
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she should
so some such than that the their theirs them themselves then there these they this those through to
too under until up very was we were what when where which while who whom why will with would you your
yours yourself yourselves also may might must shall us let lets it's i'm you're don't can't won't
isn't aren't doesn't didn't that's there's what's i've i'd i'll we're they're
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())

# Common words that carry little topical signal: instruction verbs and generic nouns. Their
# weight is lowered, not zeroed, so "list three steps" still counts a little.
_COMMON_TEXT = """
give make write explain describe provide create list show tell find use using used get go know
think want need like one two three four five first second new good best well way ways thing things
something anything everything someone people person time times day days year years please help
following given text sentence sentences word words answer question questions example examples
generate output input response respond based each many much every another different important
sure able really just even still also however therefore simple simply briefly short long
"""
COMMON_WORDS: frozenset[str] = frozenset(_COMMON_TEXT.split())

STOPWORD_WEIGHT = 0.0
COMMON_WEIGHT = 0.35
# Short tokens ("js", "db") are usually abbreviations worth less than full terms; numbers are
# exact facts and worth a lot when the prompt names them.
SHORT_TOKEN_WEIGHT = 0.6


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, inner apostrophes and hyphens)."""
    return [w.rstrip("'-") for w in WORD_RE.findall(text.lower())]


def word_count(text: str) -> int:
    """Number of word tokens, without building them (for lengths of sentences and paragraphs)."""
    return len(WORD_RE.findall(text.lower()))


_SIBILANT_ES = ("sses", "xes", "zes", "ches", "shes")


# Memoised because the same few thousand words recur in every answer; bounded so a stream of
# unusual tokens cannot grow it without limit.
@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix stripper: enough to match "fixtures" with "fixture", "testing" with "test"."""
    for suffix in ("ing", "ies", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            # "fixtures" -> "fixture", but "boxes" -> "box": only sibilants take "-es".
            cut = 1 if suffix == "es" and not word.endswith(_SIBILANT_ES) else len(suffix)
            return word[:-cut] + ("y" if suffix == "ies" else "")
    return word


@functools.lru_cache(maxsize=65536)
def term(word: str) -> tuple[str, float]:
    """The stem and weight of one lower-cased word, memoised like `stem`."""
    return stem(word), term_weight(word)


def term_weight(word: str) -> float:
    """The tiered inverse-document-frequency weight of one lower-cased word."""
    if word in STOPWORDS:
        return STOPWORD_WEIGHT
    if word in COMMON_WORDS:
        return COMMON_WEIGHT
    if len(word) <= 2:
        return SHORT_TOKEN_WEIGHT
    return 1.0


def content_terms(text: str) -> dict[str, float]:
    """Stemmed content terms of a text with their weights (stopwords dropped)."""
    return terms_of(words(text))


def terms_of(tokens: Iterable[str]) -> dict[str, float]:
    """Stemmed content terms of some tokens with their weights (stopwords dropped)."""
    terms: dict[str, float] = {}
    for word in tokens:
        root, weight = term(word)
        if weight > 0.0:
            terms[root] = weight
    return terms


def stems(text: str) -> set[str]:
    """The set of stems of every word in a text."""
    return {stem(w) for w in words(text)}


def sentences(text: str) -> list[str]:
    """Non-empty sentences and lines of a text."""
    return [s.strip() for s in SENTENCE_SPLIT_RE.split(text) if s.strip()]


def ngrams(tokens: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    """Consecutive n-grams of a token list."""
    return zip(*(tokens[i:] for i in range(n)), strict=False)


def repeated_ngram_share(tokens: Sequence[str], n: int = 3) -> float:
    """The share of n-grams that repeat an earlier one: 0 for fresh text, near 1 for a loop."""
    grams = list(ngrams(tokens, n))
    if not grams:
        return 0.0
    counts = Counter(grams)
    repeated = sum(c - 1 for c in counts.values())
    return repeated / len(grams)


def saturate(x: float, scale: float) -> float:
    """Map a count in [0, inf) onto [0, 1): 1 - exp(-x/scale). Rewards the first few, then levels off."""
    return 1.0 - math.exp(-max(x, 0.0) / scale)


def clamp10(x: float) -> float:
    """Clamp to the 0–10 score scale."""
    return min(10.0, max(0.0, x))


class AnalysedText:
    """One sample's texts, tokenised once and shared by the four heuristic scorers.

    Every derived view (tokens, stems, sentences, content terms of answer and prompt) is computed
    on first use and cached on the object, so no scorer tokenises the same text twice. Built per
    sample by the composite; cheap to build, so unused views cost nothing.
    """

    def __init__(self, sample: Sample) -> None:
        self.sample = sample
        self.answer = sample.answer
        self.prompt = sample.prompt

    @functools.cached_property
    def lowered(self) -> str:
        """The answer, lower-cased (phrase patterns are lower-case: faster than re.IGNORECASE)."""
        return self.answer.lower()

    @functools.cached_property
    def tokens(self) -> list[str]:
        """The answer's word tokens."""
        return [w.rstrip("'-") for w in WORD_RE.findall(self.lowered)]

    @functools.cached_property
    def token_set(self) -> frozenset[str]:
        """The answer's distinct tokens: lets scorers skip a phrase pattern none of whose words occur."""
        return frozenset(self.tokens)

    @functools.cached_property
    def is_empty(self) -> bool:
        """No words, only a placeholder tag such as "<no-output>", or only the prompt copied back."""
        if not self.tokens or PLACEHOLDER_RE.fullmatch(self.answer) is not None:
            return True
        # An answer that is the prompt (or its opening) word for word says nothing new.
        n = len(self.tokens)
        return n >= MIN_PARROT_WORDS and self.prompt_tokens[:n] == self.tokens

    @functools.cached_property
    def n_words(self) -> int:
        """The answer's length in words."""
        return len(self.tokens)

    @functools.cached_property
    def stems(self) -> set[str]:
        """The set of stems of the answer's words."""
        return {stem(w) for w in self.tokens}

    @functools.cached_property
    def terms(self) -> dict[str, float]:
        """The answer's weighted content terms."""
        return terms_of(self.tokens)

    @functools.cached_property
    def sentences(self) -> list[str]:
        """The answer's sentences and lines."""
        return sentences(self.answer)

    @functools.cached_property
    def sentence_lengths(self) -> list[int]:
        """Words per sentence of the answer."""
        return [n for n in map(len, map(WORD_RE.findall, SENTENCE_END_RE.split(self.lowered))) if n]

    @functools.cached_property
    def prompt_tokens(self) -> list[str]:
        """The prompt's word tokens."""
        return words(self.prompt)

    @functools.cached_property
    def prompt_terms(self) -> dict[str, float]:
        """The prompt's weighted content terms."""
        return terms_of(self.prompt_tokens)
