"""Suites: the packaged suite loads with 10 cases per agent; a bad file names the bad field."""

from pathlib import Path

import pytest

from scoring.suites import SuiteError, load_suite

AGENTS = ("support_agent", "legal_agent", "content_agent", "qa_agent", "analyst_agent")


def test_packaged_suite_has_ten_cases_per_agent() -> None:
    """genesis-agents loads by bare name: 50 cases, 10 for each of the five agents."""
    suite = load_suite("genesis-agents")
    assert len(suite.cases) == 50
    assert {a: len(suite.for_agent(a)) for a in AGENTS} == dict.fromkeys(AGENTS, 10)


def test_required_topics_are_present() -> None:
    """The suite covers the topics the rollout review asked for."""
    prompts = " ".join(c.messages[-1].content.lower() for c in load_suite("genesis-agents").cases)
    for topic in (
        "async functions in pytest",
        "database fixtures",
        "privacy-policy disclaimer",
        "growth dashboard",
        "unit economics",
    ):
        assert topic in prompts


def test_case_builds_a_sample() -> None:
    """A case turns an answer into a scoring sample with its keywords."""
    case = load_suite("genesis-agents").cases[0]
    s = case.sample("answer")
    assert s.agent == case.agent
    assert s.expected_keywords == tuple(case.expected_keywords)


def test_bad_file_names_the_field(tmp_path: Path) -> None:
    """A case without an agent fails with the path of the missing field."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncases:\n  - id: a\n    messages: [{role: user, content: hi}]\n    must_contain: y\n")
    with pytest.raises(SuiteError, match=r"cases\.0\.agent"):
        load_suite(bad)


def test_unknown_packaged_name() -> None:
    """An unknown bare name says no such packaged suite."""
    with pytest.raises(SuiteError, match="no packaged suite"):
        load_suite("does-not-exist")
