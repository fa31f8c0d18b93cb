"""The scoring library: the same scorers for the offline benchmark and for sampled live traffic.

Pure Python: no web framework, no Redis, no network of its own. The LLM judge receives its
model call from the caller, so it runs through whatever upstream the caller owns.
"""

from scoring.types import DIMENSIONS, Dimension, DimensionScore, Message, Sample, Score

__all__ = ["DIMENSIONS", "Dimension", "DimensionScore", "Message", "Sample", "Score"]
