"""The in-process harness: the gateway's app answers every request from the fixed upstream, and is timed."""

from __future__ import annotations

from pathlib import Path

import msgspec
import uvloop

from benchmarks.inproc import build, measure, serve
from benchmarks.upstream import COMPLETION, sse_stream


def test_the_app_relays_the_fixed_completion(tmp_path: Path) -> None:
    app = build(tmp_path)
    assert msgspec.json.decode(uvloop.run(serve(app, stream=False, requests=3))) == COMPLETION


def test_the_app_relays_the_fixed_stream_event_for_event(tmp_path: Path) -> None:
    app = build(tmp_path)
    assert uvloop.run(serve(app, stream=True, requests=3)) == sse_stream().encode()


def test_measure_gives_the_cpu_time_of_a_request() -> None:
    us = measure(stream=True, requests=50, warm_up=5)
    assert 0 < us < 100_000
