"""Text utilities: tokens, stems, term weights, sentences, repetition and the shared AnalysedText."""

from scoring.text import (
    AnalysedText,
    content_terms,
    repeated_ngram_share,
    sentences,
    stem,
    term,
    word_count,
    words,
)
from tests.scoring.helpers import sample


def test_words_lowercase_and_keep_inner_marks() -> None:
    """Tokens are lower-cased, keep inner hyphens and apostrophes, and drop trailing ones."""
    assert words("Don't use pytest-asyncio' NOW-") == ["don't", "use", "pytest-asyncio", "now"]
    assert word_count("Don't use pytest-asyncio' NOW-") == 4


def test_stem_merges_plural_and_ing() -> None:
    """Plurals and -ing forms share a stem; short words are left alone."""
    assert stem("fixtures") == stem("fixture")
    assert stem("testing") == "test"
    assert stem("is") == "is"


def test_term_weights_tiered() -> None:
    """Stopwords weigh nothing, common words little, topical words fully."""
    terms = content_terms("Explain the database fixtures")
    assert "the" not in terms
    assert terms["explain"] < terms["databas" if "databas" in terms else "database"]
    assert term("fixtures") == (stem("fixtures"), 1.0)


def test_sentences_split_on_marks_and_lines() -> None:
    """Sentences split after end marks and at line breaks, dropping blanks."""
    assert sentences("One. Two!\n\nThree?  Four") == ["One.", "Two!", "Three?", "Four"]


def test_repetition_share_detects_loops() -> None:
    """A looping token list has a high repeated 3-gram share, fresh text none."""
    assert repeated_ngram_share(words("a b c d e f g")) == 0.0
    assert repeated_ngram_share(words("go home now " * 10)) > 0.8


def test_analysed_text_matches_plain_helpers() -> None:
    """AnalysedText's cached views equal what the plain helpers compute from the same texts."""
    s = sample("Which fixtures do I need?", "Use a db fixture. Then yield it!\nDone")
    text = AnalysedText(s)
    assert text.tokens == words(s.answer)
    assert text.n_words == len(words(s.answer))
    assert text.stems == {stem(w) for w in words(s.answer)}
    assert text.terms == content_terms(s.answer)
    assert text.prompt_terms == content_terms(s.prompt)
    assert text.sentence_lengths == [word_count(x) for x in sentences(s.answer)]
    assert text.tokens is text.tokens  # computed once, then shared


def test_placeholder_answer_is_empty() -> None:
    """An answer that is only a placeholder tag or blank counts as empty; a real answer does not."""
    assert AnalysedText(sample("Q?", "<no-output>")).is_empty
    assert AnalysedText(sample("Q?", "   ")).is_empty
    assert not AnalysedText(sample("Q?", "No.")).is_empty
    assert not AnalysedText(sample("Q?", "Use <b>bold</b> tags.")).is_empty


def test_prompt_copied_back_is_empty() -> None:
    """An answer that is only the prompt (or its opening) word for word is empty; one that adds to it is not."""
    prompt = "Design a skill assessment questionnaire for R.\n\nKeep it short."
    assert AnalysedText(sample(prompt, "Design a skill assessment questionnaire for R.")).is_empty
    assert not AnalysedText(
        sample(prompt, "Design a skill assessment questionnaire for R: 1. What is a vector?")
    ).is_empty
    assert not AnalysedText(sample("Name a colour.", "Name")).is_empty  # too short to call a copy
