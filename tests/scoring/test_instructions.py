"""Instruction cues: requested item counts, word and sentence limits, and the answer's item count."""

from scoring.scorers.instructions import answer_items, requested_count, sentence_limit, word_limit


def test_requested_count_after_verb_and_single_requests() -> None:
    """Counts after an instruction verb are read; a request for "a" thing asks for one."""
    assert requested_count("Name 5 animals from the rainforest.") == 5
    assert requested_count("Suggest a snack that you can make in under 5 minutes.") == 1
    assert requested_count("Tell the name of a famous mathematician.") == 1
    assert requested_count("Suggest a few snacks.") is None


def test_count_in_input_text_is_ignored() -> None:
    """Numbers in the input after the instruction are not a requested count."""
    assert requested_count("Summarize the text.\n\nWe found three reasons for the outage.") is None


def test_word_and_sentence_limits() -> None:
    """Stated word and sentence limits are read in words and digits."""
    assert word_limit("Summarize this in 50 words or less.") == 50
    assert word_limit("Explain DNS in under thirty words.") is None
    assert word_limit("Explain DNS in under ten words.") == 10
    assert sentence_limit("Describe a feature flag in one sentence.") == 1
    assert sentence_limit("Describe a feature flag in two sentences.") == 2
    assert sentence_limit("Describe a feature flag.") is None


def test_answer_items_counts_lists_lines_and_inline_runs() -> None:
    """Items are list entries, short lines, or a short comma-separated run; prose is one item."""
    assert answer_items("1. Tapir\n2. Sloth\n3. Jaguar") == 3
    assert answer_items("Roasted chickpeas\nApple slices\nRaw nuts") == 3
    assert answer_items("Monkeys, sloths, toucans, jaguars and frogs.") == 5
    assert answer_items("Sir Isaac Newton, who wrote the Principia, is the best-known mathematician of all.") == 1
