"""Runs a suite: every case × target answered (bounded concurrency, retries, cache) and scored.

A failed call is retried with exponential backoff (with jitter) when it may succeed later —
timeouts, connection errors, 429 and 5xx — and recorded on its case as an error otherwise, so
one bad case never sinks the run. A ``BenchError`` (the gateway refused to force a variant, a
setup problem) stops the whole run at once.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.bench.cache import AnswerCache
from gateway.bench.callers import ModelCaller, PriceBook
from gateway.bench.errors import BenchError, CallFailed
from gateway.bench.model import Answer, Run
from scoring.composite import Composite
from scoring.suites import Case


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried."""

    attempts: int = 4
    """Total attempts per call, the first included."""
    base_delay_s: float = 0.5
    """Wait before the second attempt; doubles for each further one."""
    max_delay_s: float = 8.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Wait after failed attempt number ``attempt`` (1-based): exponential, with 50–100 % jitter."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + rng.random() / 2)


class ProgressSink(Protocol):
    """Told about every finished run (the CLI draws a progress bar from it)."""

    def advance(self, run: Run) -> None: ...


class BenchRunner:
    """Answers and scores cases with one caller, one composite and one price table."""

    def __init__(
        self,
        caller: ModelCaller,
        composite: Composite,
        prices: PriceBook,
        *,
        concurrency: int = 16,
        retry: RetryPolicy | None = None,
        timeout_s: float = 120.0,
        cache: AnswerCache | None = None,
        progress: ProgressSink | None = None,
        seed: int = 0,
    ) -> None:
        self._caller = caller
        self._composite = composite
        self._prices = prices
        self._slots = asyncio.Semaphore(concurrency)
        self._retry = retry or RetryPolicy()
        self._timeout_s = timeout_s
        self._cache = cache
        self._progress = progress
        self._rng = random.Random(seed)

    async def run(self, cases: Sequence[Case], targets: Sequence[str]) -> list[Run]:
        """Every case answered by every target, in suite order; raises ``BenchError`` to stop."""
        agents = sorted({c.agent for c in cases})
        try:
            await self._caller.start(agents, targets)
            return await self._run_all(cases, targets)
        finally:
            await self._caller.close()

    async def _run_all(self, cases: Sequence[Case], targets: Sequence[str]) -> list[Run]:
        tasks: list[asyncio.Task[Run]] = []
        try:
            async with asyncio.TaskGroup() as group:
                for case in cases:
                    for target in targets:
                        tasks.append(group.create_task(self._one(case, target)))
        except BaseExceptionGroup as failure:
            fatal = failure.subgroup(BenchError)
            if fatal is not None:
                raise _first(fatal) from None
            raise
        return [t.result() for t in tasks]

    async def _one(self, case: Case, target: str) -> Run:
        try:
            answer, cached, attempts = await self._answer(case, target)
        except _GaveUp as gave_up:
            run = Run(
                case_id=case.id, agent=case.agent, target=target, attempts=gave_up.attempts, error=gave_up.message
            )
        else:
            sample = case.sample(answer.text, finish_reason=answer.finish_reason).model_copy(
                update={
                    "latency_s": answer.latency_s,
                    "input_tokens": answer.input_tokens,
                    "output_tokens": answer.output_tokens,
                }
            )
            score = await self._composite.ascore(sample)
            cost = self._prices.cost(answer.model, answer.input_tokens, answer.output_tokens)
            run = Run(
                case_id=case.id,
                agent=case.agent,
                target=target,
                answer=answer,
                score=score,
                cost_usd=None if cost is None else cost + score.judge_cost_usd,
                cached=cached,
                attempts=attempts,
            )
        if self._progress is not None:
            self._progress.advance(run)
        return run

    async def _answer(self, case: Case, target: str) -> tuple[Answer, bool, int]:
        identity = self._caller.identity(case.agent, target)
        if self._cache is not None:
            hit = self._cache.get(identity, case.messages)
            if hit is not None:
                return hit, True, 0
        for attempt in range(1, self._retry.attempts + 1):
            try:
                async with self._slots, asyncio.timeout(self._timeout_s):
                    answer = await self._caller.call(case.agent, target, case.messages)
            except TimeoutError:
                failure = CallFailed(f"no answer within {self._timeout_s:g} s", transient=True)
            except CallFailed as exc:
                failure = exc
            else:
                if self._cache is not None:
                    self._cache.put(identity, case.messages, answer)
                return answer, False, attempt
            if not failure.transient or attempt == self._retry.attempts:
                raise _GaveUp(failure.message, attempt)
            await asyncio.sleep(self._retry.delay(attempt, self._rng))
        raise _GaveUp("no attempt was made (retry attempts must be at least 1)", 0)


class _GaveUp(Exception):
    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.message = message
        self.attempts = attempts


def _first(group: BaseExceptionGroup[BenchError]) -> BenchError:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
