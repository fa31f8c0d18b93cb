"""The simulator's answers: text built from the prompt, in a fine-tuned or a base-model profile.

The fine-tuned profile is what the agents were trained for: numbered steps, concrete numbers and
commands, the domain's artefacts (code for QA, citations for legal, formulas for the analyst,
empathy for support). The base profile is the generic assistant the fine-tuning replaced: polite,
vague, hedged. Both are deterministic for a given model and prompt.
"""

from __future__ import annotations

import hashlib
import re

_TERM = re.compile(r"[A-Za-z][A-Za-z0-9\-]{3,}")
_STOP = frozenset(
    """
    about above after again against because been before being below between both could does doing
    down during each from further have having here into itself just more most other over same should
    some such than that their them then there these they this those through under until very what
    when where which while will with would your yours please help need want like make sure also
    know tell give using write explain
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_DOMAINS: dict[str, tuple[str, ...]] = {
    "qa": ("test", "pytest", "fixture", "bug", "async", "coverage", "unit", "mock", "regression", "assert"),
    "legal": ("privacy", "policy", "contract", "gdpr", "clause", "disclaimer", "liability", "terms", "legal"),
    "analyst": ("dashboard", "growth", "metric", "revenue", "churn", "economics", "cohort", "kpi", "ltv"),
    "support": (
        "refund",
        "order",
        "account",
        "password",
        "billing",
        "cancel",
        "shipping",
        "login",
        "charged",
    ),
    "content": ("blog", "post", "headline", "newsletter", "campaign", "copy", "article", "seo", "social"),
}


def compose_answer(model: str, prompt: str, system: str = "") -> str:
    """The answer ``model`` gives to ``prompt``: fine-tuned profile for ``ft:`` ids, base otherwise."""
    terms = key_terms(prompt)
    domain = guess_domain(f"{system} {prompt}")
    seed = int.from_bytes(hashlib.blake2s(f"{model}|{prompt}".encode(), digest_size=4).digest(), "big")
    if model.startswith("ft:"):
        return _fine_tuned(terms, domain, seed)
    return _base(terms, seed)


def key_terms(prompt: str, limit: int = 5) -> list[str]:
    """The prompt's content words, first occurrence order, without stop words."""
    seen: list[str] = []
    for word in _TERM.findall(prompt):
        w = word.lower()
        if w not in _STOP and w not in seen:
            seen.append(w)
    return seen[:limit] or ["your request"]


def guess_domain(text: str) -> str:
    """The agent domain whose vocabulary the text uses most; ``support`` when none."""
    lowered = text.lower()
    best, hits = "support", 0
    for domain, words in _DOMAINS.items():
        n = sum(lowered.count(w) for w in words)
        if n > hits:
            best, hits = domain, n
    return best


def _fine_tuned(terms: list[str], domain: str, seed: int) -> str:
    topic = " ".join(terms[:3])
    steps = [
        f"1. **Scope {terms[0]}**: list the 3 cases that matter most and the owner of each, within 2 days.",
        f"2. **Apply it to {terms[min(1, len(terms) - 1)]}**: change one thing at a time and measure the "
        f"effect over {7 + seed % 7} days (target: at least {10 + seed % 15}% improvement).",
        f"3. **Check {terms[-1]}**: compare against the baseline and record the result in the runbook.",
    ]
    return "\n".join([f"## {topic.capitalize()}: a concrete plan", "", *steps, "", _EXTRAS[domain](terms, seed)])


def _qa_extra(terms: list[str], seed: int) -> str:
    return (
        "Example test (run with `pytest -q`):\n\n```python\nimport pytest\n\n\n"
        f"@pytest.mark.asyncio\nasync def test_{terms[0].replace('-', '_')}():\n"
        f'    result = await run_case({seed % 100})\n    assert result.status == "ok"\n```'
    )


def _legal_extra(terms: list[str], seed: int) -> str:
    return (
        f"Legal basis: GDPR Art. 13 and Art. {6 + seed % 3}(1)(b); keep records for {2 + seed % 4} years. "
        f"Note: this is general information about {terms[0]}, not legal advice for your jurisdiction."
    )


def _analyst_extra(terms: list[str], seed: int) -> str:
    return (
        f"Key formula: LTV/CAC = (ARPU × gross margin / churn) / CAC; with ARPU $${40 + seed % 20}, "
        f"margin 78% and churn {2 + seed % 3}%/month, track it weekly next to {terms[0]}."
    )


def _support_extra(terms: list[str], seed: int) -> str:
    return (
        f"I'm sorry for the trouble with {terms[0]}. I've opened ticket #{10000 + seed % 90000}; "
        f"you will get an update within {2 + seed % 22} hours."
    )


def _content_extra(terms: list[str], seed: int) -> str:
    return (
        f'Headline: "{terms[0].capitalize()} in {3 + seed % 5} steps". Length: {600 + seed % 400} words, '
        f"one call to action, publish Tuesday 09:00."
    )


_EXTRAS = {
    "qa": _qa_extra,
    "legal": _legal_extra,
    "analyst": _analyst_extra,
    "support": _support_extra,
    "content": _content_extra,
}

_BASE_OPENINGS = (
    "There are several things to consider regarding {topic}.",
    "That is a good question about {topic}.",
    "When it comes to {topic}, it really depends on your situation.",
)


def _base(terms: list[str], seed: int) -> str:
    opening = _BASE_OPENINGS[seed % len(_BASE_OPENINGS)].format(topic=terms[0])
    return (
        f"{opening} Generally, it is a good idea to follow best practices and think about what works "
        "for you. You might want to look into various options and consider different approaches, "
        "since every case is different. It may also help to consult relevant resources or an expert. "
        "I hope this helps!"
    )
