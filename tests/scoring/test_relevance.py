"""Relevance: covering the request's terms and keywords beats missing them or stuffing them."""

from scoring.scorers.relevance import RelevanceScorer
from tests.scoring.helpers import sample

SCORER = RelevanceScorer()
PROMPT = "How do I configure database connection pooling in SQLAlchemy?"


def rel(prompt: str, answer: str, **fields: object) -> float:
    return SCORER.score(sample(prompt, answer, **fields)).value


def test_on_topic_beats_off_topic() -> None:
    """An answer about connection pooling outscores one about something else."""
    good = "Pass pool_size and max_overflow to create_engine; SQLAlchemy's QueuePool then reuses connections."
    bad = "Bananas are rich in potassium and make a quick breakfast before a morning run."
    assert rel(PROMPT, good) > rel(PROMPT, bad)


def test_expected_keywords_count() -> None:
    """Mentioning the expected keywords raises relevance."""
    kws = ("pool_size", "pool_pre_ping")
    good = "Set pool_size=10 and pool_pre_ping=True on the SQLAlchemy engine for database connection pooling."
    bad = "Set a bigger number on the SQLAlchemy engine for database connection pooling."
    assert rel(PROMPT, good, expected_keywords=kws) > rel(PROMPT, bad, expected_keywords=kws)


def test_keyword_stuffing_is_not_rewarded() -> None:
    """A dump of the prompt's words scores below a real answer that covers them."""
    good = (
        "Configure pooling on the SQLAlchemy engine: create_engine(url, pool_size=10, max_overflow=5, "
        "pool_recycle=1800). The database connection pool then keeps ten connections open and reuses them."
    )
    stuffed = " ".join(["database connection pooling SQLAlchemy configure"] * 8)
    assert rel(PROMPT, good) > rel(PROMPT, stuffed)


def test_neighbour_answer_loses() -> None:
    """An answer to a neighbouring question covers fewer of the prompt's key terms."""
    prompt = "Name three ways to extend the battery life of a laptop."
    good = (
        "Lower screen brightness, turn off Bluetooth, and use the laptop's battery saver mode to extend battery life."
    )
    bad = "Three ways to speed up a laptop are adding RAM, switching to an SSD and removing startup programs."
    assert rel(prompt, good) > rel(prompt, bad)


def test_empty_answer_scores_zero() -> None:
    """An empty answer has no relevance at all."""
    assert rel(PROMPT, "") == 0.0
