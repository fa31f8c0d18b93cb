"""Instruction cues: requested item counts, word and sentence limits, and the answer's item count."""

from scoring.scorers.instructions import (
    answer_items,
    code_asked,
    missing_outputs,
    requested_count,
    sentence_limit,
    word_limit,
)


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


def test_missing_link_letter_code_and_number() -> None:
    """What the request implies (a link, an email's greeting/sign-off, code, a number) is missing or given."""
    assert missing_outputs("Provide a link to the docs.", "[Link to the docs]") == ["link"]
    assert missing_outputs("Provide a link to the docs.", "See https://docs.example.com.") == []
    email = "Write an email to negotiate your salary."
    assert missing_outputs(email, "I want more money.") == ["letter shape"]
    assert missing_outputs(email, "Dear Ana,\n\nI would like to discuss my salary.\n\nBest regards,\nLi") == []
    code = "Write a Python function that reverses a string."
    assert missing_outputs(code, "You reverse it with slicing.") == ["code"]
    assert missing_outputs(code, "def rev(s):\n    return s[::-1]") == []
    assert missing_outputs("How many legs does a spider have?", "Quite a lot of them.") == ["number"]
    assert missing_outputs("How many legs does a spider have?", "Eight.") == []


def test_code_is_asked_only_in_a_programming_sense() -> None:
    """ "Script", "class" and "function" ask for code only next to a programming language."""
    assert code_asked("write a script of a dialogue between a waiter and a guest.") is False
    assert code_asked("write the excel function name for each description.") is False
    assert code_asked("write a bash script that backs up /etc.") is True
    assert code_asked("give me code to parse json.") is True


def test_email_signature_is_not_a_letter() -> None:
    """An email signature or address is not a letter that needs a greeting."""
    assert missing_outputs("Prepare an email signature template for Ana.", "Ana Li | Engineer") == []


def test_a_mentioned_link_is_not_a_requested_one() -> None:
    """A question about a link ("do we need a ... link?") does not ask for a URL."""
    assert missing_outputs("Do we need a 'Do Not Sell' link for California users?", "Yes, under the CCPA.") == []
