"""Throughput benchmark of the heuristic composite: `python -m scoring.bench_speed`.

Scores synthetic ~1 KB answers (varied text, a list, a code block) on one core and prints
answers per second. A benchmark to read, not a timed test.
"""

from __future__ import annotations

import argparse
import time

from scoring.composite import Composite
from scoring.types import Message, Sample

_PARAGRAPH = (
    "To test async functions, install pytest-asyncio and set asyncio_mode = auto in pyproject.toml. "
    "Each test is written as async def and awaits the coroutine under test; fixtures can be async too. "
)
_LIST = "1. Install the plugin with `pip install pytest-asyncio`.\n2. Mark tests or use auto mode.\n"
_CODE = "```python\nasync def test_total(client):\n    assert await client.total() == {n}\n```\n"


def make_samples(count: int) -> list[Sample]:
    """`count` distinct samples with answers of about 1 KB."""
    samples = []
    for n in range(count):
        answer = f"Answer {n}: " + _PARAGRAPH * 4 + _LIST + _CODE.format(n=n) + f"Done after {n % 90} s."
        samples.append(
            Sample(
                agent=("qa_agent", "support_agent", "analyst_agent")[n % 3],
                messages=(Message(role="user", content=f"How do I test async functions in pytest? ({n})"),),
                answer=answer,
                expected_keywords=("pytest-asyncio", "await"),
            )
        )
    return samples


def run(count: int) -> float:
    """Score `count` samples and return answers per second."""
    composite = Composite()
    samples = make_samples(count)
    start = time.perf_counter()
    for sample in samples:
        composite.score(sample)
    return count / (time.perf_counter() - start)


def main() -> None:
    """Print the heuristic composite's throughput."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    size = sum(len(s.answer) for s in make_samples(10)) / 10
    rate = run(args.count)
    print(f"heuristic composite: {rate:,.0f} answers/s on one core ({args.count} answers, ~{size:.0f} chars each)")


if __name__ == "__main__":
    main()
