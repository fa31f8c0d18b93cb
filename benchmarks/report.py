"""The run's results as Markdown tables (the JSON holds the same figures and every round)."""

from __future__ import annotations

from typing import Any


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]
    return lines


def path_table(path: dict[str, Any]) -> list[str]:
    header = ["answer", "conns", "target", "req/s", "× passthrough", "p50 ms", "p90 ms", "p99 ms"]
    header += ["added p50 ms", "added p99 ms", "CPU µs/req", "errors"]
    rows = []
    for scenario in path["scenarios"]:
        for target, r in scenario["targets"].items():
            rows.append(
                [
                    scenario["mode"],
                    scenario["connections"],
                    target,
                    round(r["rps"]),
                    r.get("ratio"),
                    r["p50_ms"],
                    r["p90_ms"],
                    r["p99_ms"],
                    r.get("added_p50_ms"),
                    r.get("added_p99_ms"),
                    round(r["cpu_us_per_req"]) if r.get("cpu_us_per_req") else None,
                    r["errors"],
                ]
            )
    lines = _table(header, rows)
    rss = ", ".join(f"{name} {mb:.0f} MB" for name, mb in path["rss_mb"].items())
    lines += ["", f"Resident memory after the load (VmRSS per serving process): {rss}."]
    for scenario in path["scenarios"]:
        for target, r in scenario["targets"].items():
            during, everything = r.get("cpu_us_per_req"), r.get("cpu_us_per_req_all")
            if during and everything and everything > 1.05 * during:
                lines += [
                    "",
                    f"{scenario['mode']}, {scenario['connections']} conns, {target}: {during:,.0f} µs of CPU per "
                    f"request during the run, {everything:,.0f} µs with the work it left behind (done once the "
                    "run ended: an embedded scorer's backlog).",
                ]
    for name, counts in path.get("samples", {}).items():
        told = ", ".join(f"{what} {n:,}" for what, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        lines += ["", f"Samples of {name} over the whole section: {told}."]
    return lines


def ttfb_table(ttfb: dict[str, Any]) -> list[str]:
    rows = [
        [t, r["p50_ms"], r["p90_ms"], r["p99_ms"], r.get("added_p50_ms"), r.get("added_p99_ms")]
        for t, r in ttfb["targets"].items()
    ]
    return _table(["target", "TTFB p50 ms", "p90 ms", "p99 ms", "added p50 ms", "added p99 ms"], rows)


def streams_table(streams: dict[str, Any]) -> list[str]:
    r = streams
    rows = [
        [
            r["connections"],
            r["stream_s"],
            r["completed"],
            r["errors"],
            r["p50_ms"],
            r["p99_ms"],
            r["rss_start_mb"],
            r["rss_peak_mb"],
            r["rss_after_mb"],
        ]
    ]
    header = ["streams held", "stream s", "completed", "errors", "p50 ms", "p99 ms", "RSS idle MB", "RSS peak MB"]
    return _table([*header, "RSS after MB"], rows)


def workers_table(workers: dict[str, Any]) -> list[str]:
    rows = [
        [
            t,
            r["workers"],
            round(r["rps"]),
            r.get("scaling"),
            r.get("scaling_best"),
            None if r.get("rps_per_core") is None else round(r["rps_per_core"]),
            r.get("per_core"),
            r.get("bound"),
            None if r.get("load_us_per_req") is None else round(r["load_us_per_req"]),
            r["p50_ms"],
            r["p99_ms"],
            r.get("rss_mb"),
            "; ".join(" / ".join(f"{x:.2f}" for x in shares) for shares in r.get("core_shares", [])),
            r["errors"],
        ]
        for t, r in workers["targets"].items()
    ]
    header = ["target", "workers", "req/s", "× one worker", "best round", "req/s per busy core"]
    header += ["× one worker per busy core", "× one worker at most here", "wrk + nginx CPU µs/req"]
    header += ["p50 ms", "p99 ms", "RSS per worker MB"]
    header += ["cores busy per process, each round", "errors"]
    return _table(header, rows)


def servers_table(servers: dict[str, Any]) -> list[str]:
    rows = [
        [t, r["mode"], r["connections"], round(r["rps"]), r["p50_ms"], r["p99_ms"], round(r["cpu_us_per_req"] or 0)]
        for t, r in servers["targets"].items()
    ]
    return _table(["target", "answer", "conns", "req/s", "p50 ms", "p99 ms", "CPU µs/req"], rows)


def goals_table(goals: list[dict[str, Any]]) -> list[str]:
    rows = [[g["goal"], g["measured"], "met" if g["met"] else "**not met**"] for g in goals]
    return _table(["goal", "measured", ""], rows)


def markdown(results: dict[str, Any]) -> str:
    """The whole report."""
    m = results["machine"]
    out = [
        "# Request-path benchmark",
        "",
        f"Machine: {m['cpus']} × {m['cpu_model']}, load average before the run {m['load_before']}, "
        f"after {m.get('load_after', '–')}. Command: `{results['command']}`. "
        f"Rounds per figure: {results['options']['rounds']} × {results['options']['seconds']} s (medians).",
        "",
    ]
    sections = results["sections"]
    if "goals" in results:
        out += ["## Goals", "", *goals_table(results["goals"]), ""]
    titles = {
        "path": ("Throughput and latency (gateway and passthrough on one core)", path_table),
        "ttfb": ("Streaming: time to first byte (one connection; paced upstream, and nginx)", ttfb_table),
        "streams": ("Slow streams held at once", streams_table),
        "workers": ("Workers: one vs two on two cores", workers_table),
        "servers": ("Servers: the gateway under uvicorn and granian", servers_table),
        "clients": ("Upstream clients: the passthrough with the gateway's client, aiohttp and httpx", servers_table),
    }
    for key, (title, render) in titles.items():
        if key in sections:
            out += [f"## {title}", "", *render(sections[key]), ""]
    for note in results.get("notes", []):
        out.append(f"- {note}")
    return "\n".join(out).rstrip() + "\n"
