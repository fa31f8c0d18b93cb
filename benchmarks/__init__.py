"""The request-path benchmark: the gateway against a fixed-answer upstream and a minimal passthrough.

``python -m benchmarks.run`` (``make bench``; ``make bench-smoke`` for a few-second check) starts
nginx as the upstream, the gateway and a bare Litestar passthrough (the same upstream client) each pinned to one
core, drives them with wrk, and writes JSON and a Markdown table (docs/performance.md explains them).
"""
