"""Format: structure that fits the request beats broken or mismatched structure."""

from scoring.scorers.format import FormatScorer
from scoring.scorers.instructions import requested_count
from tests.scoring.helpers import sample

SCORER = FormatScorer()
CODE = "Here is the test:\n\n```python\nasync def test_total(client):\n    assert await client.total() == 3\n"


def fmt(prompt: str, answer: str, **fields: object) -> float:
    return SCORER.score(sample(prompt, answer, **fields)).value


def test_unclosed_code_fence_loses() -> None:
    """A closed code block outscores the same block left open."""
    prompt = "Write a pytest test for an async function."
    assert fmt(prompt, CODE + "```\n") > fmt(prompt, CODE)


def test_truncated_answer_loses() -> None:
    """An answer cut off by the token limit scores below the finished one."""
    prompt = "Explain how to rotate API keys safely."
    text = "Create the new key, deploy it alongside the old one, switch traffic, then revoke the old key."
    assert fmt(prompt, text) > fmt(prompt, text, finish_reason="length")


def test_steps_asked_list_wins() -> None:
    """When steps are asked for, a numbered list beats the same content as one paragraph."""
    prompt = "What are the steps to set up a Python virtual environment?"
    steps = [
        "Run python3 -m venv .venv in the project folder to create the environment there",
        "Activate it with source .venv/bin/activate on Linux or macOS shells",
        "Upgrade pip inside it with python -m pip install --upgrade pip before anything else",
        "Install the project's dependencies with pip install -r requirements.txt",
    ]
    listed = "\n".join(f"{i}. {s}." for i, s in enumerate(steps, 1))
    prose = " and then ".join(steps) + "."
    assert fmt(prompt, listed) > fmt(prompt, prose)


def test_brief_request_penalises_rambling() -> None:
    """A one-sentence request is better served by one sentence than by a long essay."""
    prompt = "In one sentence, what is a feature flag?"
    short = "A feature flag is a runtime switch that turns a code path on or off without a redeploy."
    long = " ".join([short] * 12)
    assert fmt(prompt, short) > fmt(prompt, long)


def test_requested_count_is_read() -> None:
    """The number of items a prompt asks for is recognised in words and digits."""
    assert requested_count("Give me three ways to save money") == 3
    assert requested_count("List 5 tips for interviews") == 5
    assert requested_count("Explain inflation") is None


def test_single_item_request_penalises_a_list() -> None:
    """Asked for one thing, one answer beats a list of many."""
    prompt = "Suggest a snack that you can make in under 5 minutes."
    one = "A peanut butter and banana sandwich takes about three minutes to make."
    many = "Hummus with pita chips\nRoasted chickpeas\nApple slices with almond butter\nRaw nuts and seeds"
    assert fmt(prompt, one) > fmt(prompt, many)


def test_requested_count_respected() -> None:
    """Asked for five items, five beats two."""
    prompt = "Name 5 animals from the rainforest."
    assert fmt(prompt, "Sloths, toucans, jaguars, tapirs and capybaras.") > fmt(prompt, "Sloths and toucans.")


def test_word_limit_respected() -> None:
    """An answer within the stated word limit beats one far past it."""
    prompt = "Explain what a feature flag is in 20 words or less."
    short = "A feature flag is a runtime switch that turns a code path on or off without redeploying."
    assert fmt(prompt, short) > fmt(prompt, short + " " + short + " " + short)


def test_sentence_limit_respected() -> None:
    """Asked for one sentence, one sentence beats three."""
    prompt = "Describe a feature flag in one sentence."
    one = "A feature flag is a runtime switch that turns a code path on or off without a redeploy."
    three = "A feature flag is a switch. It turns code on or off. No redeploy is needed."
    assert fmt(prompt, one) > fmt(prompt, three)


def test_placeholder_answer_scores_zero() -> None:
    """A placeholder such as <no-output> is an empty answer."""
    assert fmt("Write a haiku about rain.", "<no-output>") == 0.0


def test_missing_implied_output_loses() -> None:
    """A request for a link answered without one scores below an answer that gives it."""
    prompt = "Choose a playlist for a good mood. Provide a link to it."
    assert fmt(prompt, "Feel Good Hits: https://open.spotify.com/playlist/abc") > fmt(
        prompt, "Feel Good Hits: [Link to playlist]"
    )
