"""The scorers: one small module per dimension, plus the optional semantic scorer and the LLM judge."""

from scoring.scorers.base import Scorer
from scoring.scorers.format import FormatScorer
from scoring.scorers.quality import QualityScorer
from scoring.scorers.relevance import RelevanceScorer
from scoring.scorers.specificity import SpecificityScorer

__all__ = ["FormatScorer", "QualityScorer", "RelevanceScorer", "Scorer", "SpecificityScorer"]
