"""The offline benchmark: a suite answered by candidate and baseline (or named models), scored, reported.

``run_benchmark`` answers every case × target through a ``ModelCaller`` — the configured upstream
adapters (``UpstreamCaller``) or a running gateway through the mistralai SDK (``GatewayCaller``) —
with bounded concurrency, retries and an on-disk answer cache; scores the answers with
``scoring.composite``; and builds a ``BenchReport`` that ``write_reports`` renders as Markdown,
JSON and a self-contained HTML page. The gate (exit 0 / 3 / 4) is decided in ``summary.gate``.
"""

from gateway.bench.cache import AnswerCache
from gateway.bench.callers import ModelCaller, PriceBook, UpstreamCaller
from gateway.bench.errors import BenchError, CallFailed, ForceRefused
from gateway.bench.gateway_caller import GatewayCaller
from gateway.bench.model import BenchReport
from gateway.bench.run import BenchOptions, RoiInputs, run_benchmark, write_reports
from gateway.bench.runner import RetryPolicy

__all__ = [
    "AnswerCache",
    "BenchError",
    "BenchOptions",
    "BenchReport",
    "CallFailed",
    "ForceRefused",
    "GatewayCaller",
    "ModelCaller",
    "PriceBook",
    "RetryPolicy",
    "RoiInputs",
    "UpstreamCaller",
    "run_benchmark",
    "write_reports",
]
