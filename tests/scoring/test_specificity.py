"""Specificity: concrete details beat vague filler, weighted by the agent's profile."""

from scoring.scorers.specificity import SpecificityScorer
from tests.scoring.helpers import sample

SCORER = SpecificityScorer()


def spec(prompt: str, answer: str, agent: str = "default") -> float:
    return SCORER.score(sample(prompt, answer, agent=agent)).value


def test_numbers_and_commands_beat_filler() -> None:
    """Exact commands and figures outscore generic advice."""
    prompt = "How do I speed up our test suite?"
    good = "Run `pytest -n 4` with pytest-xdist: our 600 tests dropped from 240 s to 70 s on 4 cores."
    vague = "There are many ways to do this; it depends on various factors, and in general best practices apply."
    assert spec(prompt, good) > spec(prompt, vague)


def test_vague_filler_lowers_the_score() -> None:
    """Adding filler phrases to the same answer lowers specificity."""
    prompt = "How long should we keep server logs?"
    plain = "Keep application logs for 30 days and audit logs for 365 days."
    filler = plain + " It depends on various factors, and so on, etc. In general, it is important to consider."
    assert spec(prompt, plain) > spec(prompt, filler)


def test_legal_profile_rewards_citations() -> None:
    """For the legal agent a cited article counts for more than for the default profile's weights."""
    prompt = "When must we report a data breach?"
    cited = "Under GDPR Art. 33 you notify the supervisory authority; Art. 34 covers telling the people affected."
    uncited = "You notify the supervisory authority; you may also need to tell the people affected quickly."
    gap_legal = spec(prompt, cited, "legal_agent") - spec(prompt, uncited, "legal_agent")
    assert gap_legal > 0
    assert spec(prompt, cited, "legal_agent") >= spec(prompt, cited, "content_agent")


def test_code_counts_for_qa() -> None:
    """For the QA agent a code example outscores the same advice in words."""
    prompt = "How do I parametrize a pytest test?"
    code = (
        "```python\n@pytest.mark.parametrize('x,y', [(1, 2), (2, 3)])\ndef test_inc(x, y):\n    assert x + 1 == y\n```"
    )
    words = "Use the parametrize marker with a list of argument pairs and write the test to accept them."
    assert spec(prompt, code, "qa_agent") > spec(prompt, words, "qa_agent")
