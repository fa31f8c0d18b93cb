"""Process settings of a serving gateway: the garbage collector, tuned once the app has started.

CPython's default collector thresholds (700, 10, 10) run a young collection every ~3 requests and,
every so often, a full one over everything the process holds: Litestar, pydantic, the config, the
request index. The full ones stop the event loop for tens of milliseconds, which is where the
gateway's p99 under load came from. Measured with ``benchmarks/`` (one core, 16 connections, JSON,
medians of 4 runs of 3 s, side by side):

=========================================  ============  ==========
collector                                  CPU µs / req  p99 ms
=========================================  ============  ==========
defaults                                   240           46
``gc.freeze()`` after start                234           5.1
thresholds (7000, 20, 50)                  219           4.6
both                                       219           4.4
=========================================  ============  ==========

``freeze`` moves everything built at start into a generation the collector never scans (the
objects stay alive, as they would anyway); the higher thresholds make collections rarer, so each
request leaves less of the collector's work behind. Cyclic garbage waits a little longer to be
freed, which the benchmark's RSS figures show no trace of.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (7_000, 20, 50)


def tune_gc() -> None:
    """Freeze what start-up built and raise the collection thresholds (call once, after start)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
