"""Quality: clear committed answers beat loops, refusals, hedging, truncation and tone misses."""

from scoring.scorers.quality import QualityScorer, duplicate_items
from tests.scoring.helpers import sample

SCORER = QualityScorer()
PROMPT = "How do I rotate our database password without downtime?"
GOOD = (
    "Create a second database user with the new password, deploy the app with the new credentials, "
    "confirm connections succeed, then drop the old user."
)


def qual(answer: str, agent: str = "default", **fields: object) -> float:
    return SCORER.score(sample(PROMPT, answer, agent=agent, **fields)).value


def test_repetition_loses() -> None:
    """A looping answer scores below a fresh one."""
    loop = "Change the password and restart the app. " * 10
    assert qual(GOOD) > qual(loop)


def test_refusal_loses() -> None:
    """A needless refusal scores below a real answer."""
    refusal = "I'm sorry, but I can't help with database passwords. As an AI language model I cannot do that."
    assert qual(GOOD) > qual(refusal) + 3


def test_hedging_loses() -> None:
    """Hedging the same content lowers quality."""
    hedged = "I think maybe you could perhaps create a second user, probably, but I'm not sure it might be fine."
    assert qual(GOOD) > qual(hedged)


def test_truncated_finish_reason_loses() -> None:
    """finish_reason 'length' marks the answer as truncated."""
    assert qual(GOOD) > qual(GOOD, finish_reason="length")


def test_support_needs_empathy() -> None:
    """For support an empathetic answer beats a curt one; the default profile does not care."""
    kind = "Sorry about the trouble, I understand how frustrating this is. " + GOOD
    assert qual(kind, "support_agent") > qual(GOOD, "support_agent")
    assert qual(GOOD, "default") >= qual(GOOD, "support_agent")


def test_echoing_the_prompt_loses() -> None:
    """Copying the question back is not an answer."""
    assert qual(GOOD) > qual(PROMPT + " " + PROMPT)


def test_duplicate_list_items_lose() -> None:
    """A list that names the same item twice scores below one with distinct items."""
    distinct = "1. Problem solving\n2. Communication\n3. Adaptability\n4. Testing"
    repeated = "1. Problem solving\n2. Communication\n3. Adaptability\n4. Adaptability!"
    assert duplicate_items(distinct.lower()) == 0
    assert duplicate_items(repeated.lower()) == 1
    assert qual(distinct) > qual(repeated)


def test_template_artefacts_lose() -> None:
    """Prompt-template text leaking into the answer (### Response, <|endoftext|>) costs quality."""
    assert qual(GOOD) > qual(GOOD + "\n\n### Response:\nCreate a user.")
    assert qual(GOOD) > qual(GOOD + "<|endoftext|>")
    assert qual(GOOD + "\n\nOutput: the new user works.") == qual(GOOD + "\n\nResult: the new user works.")
