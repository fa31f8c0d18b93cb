"""The resumable on-disk cache of answers, keyed by (model, hash of the messages).

Each answer is written to its own file the moment it arrives (write to a temporary name, then
rename), so an interrupted run loses nothing it already paid for and the next run resumes where
it stopped. Scores are not cached: the scorers may change between runs, answers do not.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.bench.model import Answer
from scoring.types import Message


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    messages_sha256: str
    answer: Answer


def messages_hash(messages: Sequence[Message]) -> str:
    """SHA-256 of the messages in a canonical JSON form."""
    canonical = json.dumps([[m.role, m.content] for m in messages], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AnswerCache:
    """Answers on disk under ``root``; a missing or unreadable entry is a miss, never an error."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hits = 0
        self.writes = 0

    def get(self, model: str, messages: Sequence[Message]) -> Answer | None:
        """The cached answer of ``model`` to ``messages``, if any."""
        path = self._path(model, messages_hash(messages))
        try:
            entry = _Entry.model_validate_json(path.read_bytes())
        except (OSError, ValidationError):
            return None
        if entry.model != model:  # a hash collision across models is not our answer
            return None
        self.hits += 1
        return entry.answer

    def put(self, model: str, messages: Sequence[Message], answer: Answer) -> None:
        """Store an answer; the file appears whole or not at all."""
        digest = messages_hash(messages)
        path = self._path(model, digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _Entry(model=model, messages_sha256=digest, answer=answer).model_dump_json(indent=1)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
        self.writes += 1

    def _path(self, model: str, digest: str) -> Path:
        key = hashlib.sha256(f"{model}\n{digest}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.json"
