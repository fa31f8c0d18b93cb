"""Benchmark suites: the typed `Suite`/`Case` models and `load_suite` for packaged or local YAML files.

A bare name ("genesis-agents") loads the YAML shipped in this package; anything with a path
separator or a .yaml/.yml suffix is read from disk. A malformed file fails with a `SuiteError`
naming the file and the path of the bad field (for example `cases.3.agent`).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scoring.types import Message, Sample

PACKAGED_SUITES = "scoring.suites"


class SuiteError(ValueError):
    """A suite could not be found or does not match the schema."""


class Case(BaseModel):
    """One benchmark request with what a good answer must contain."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    agent: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    expected_keywords: list[str] = Field(default_factory=list)
    reference: str | None = None
    must_contain: str = Field(min_length=1)
    """A note for humans and the judge: what a good answer must contain."""

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, messages: list[Message]) -> list[Message]:
        if messages[-1].role != "user":
            raise ValueError("the last message must have role 'user'")
        return messages

    def sample(self, answer: str, *, finish_reason: str | None = "stop") -> Sample:
        """The scoring sample for an answer to this case."""
        return Sample(
            agent=self.agent,
            messages=tuple(self.messages),
            answer=answer,
            expected_keywords=tuple(self.expected_keywords),
            reference=self.reference,
            finish_reason=finish_reason,
        )


class Suite(BaseModel):
    """A named list of cases."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    cases: list[Case] = Field(min_length=1)

    @field_validator("cases")
    @classmethod
    def _unique_ids(cls, cases: list[Case]) -> list[Case]:
        seen: set[str] = set()
        for case in cases:
            if case.id in seen:
                raise ValueError(f"duplicate case id {case.id!r}")
            seen.add(case.id)
        return cases

    def for_agent(self, agent: str) -> list[Case]:
        """The cases of one agent."""
        return [c for c in self.cases if c.agent == agent]


def _read(name_or_path: str | Path) -> tuple[str, str]:
    text_name = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or "/" in text_name or text_name.endswith((".yaml", ".yml"))
    if is_path:
        try:
            return text_name, Path(name_or_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SuiteError(f"{text_name}: {exc.strerror}") from exc
    resource = importlib.resources.files(PACKAGED_SUITES).joinpath(f"{text_name}.yaml")
    if not resource.is_file():
        raise SuiteError(f"no packaged suite named {text_name!r}")
    return f"{text_name} (packaged)", resource.read_text(encoding="utf-8")


def parse_suite(text: str, source: str = "<suite>") -> Suite:
    """Validate suite YAML text; errors name the source and the bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SuiteError(f"{source}: not valid YAML: {exc}") from exc
    try:
        return Suite.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
        raise SuiteError(f"{source}: invalid suite: {problems}") from exc


def load_suite(name_or_path: str | Path) -> Suite:
    """Load a packaged suite by bare name, or a suite YAML file by path."""
    source, text = _read(name_or_path)
    return parse_suite(text, source)


__all__ = ["Case", "Suite", "SuiteError", "load_suite", "parse_suite"]
