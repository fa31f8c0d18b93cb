"""A paced SSE upstream: the first event at once, then one event every few milliseconds.

The model id says the pace: ``pace-<gap_ms>x<events>`` streams ``events`` chunks ``gap_ms`` apart
(``pace-500x20``: a ten-second answer). The benchmark uses it for what nginx cannot show: time to
the first byte when the rest of the answer is still coming, and many slow streams held at once.

    python -m benchmarks.slow_upstream --port 8082
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re

from aiohttp import web

_PACE = re.compile(r"^pace-(\d+)x(\d+)$")


def _event(text: str, finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    body: dict[str, object] = {
        "id": "cmpl-paced",
        "object": "chat.completion.chunk",
        "created": 1702256327,
        "model": "paced",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


async def chat(request: web.Request) -> web.StreamResponse:
    """Stream ``events`` chunks paced by the model id; a non-streaming request gets them joined."""
    body = await request.json()
    match = _PACE.match(str(body.get("model", "")))
    gap_s, events = (int(match.group(1)) / 1000, int(match.group(2))) if match else (0.0, 3)
    if not body.get("stream"):
        await asyncio.sleep(gap_s * events)
        answer = {
            "id": "cmpl-paced",
            "object": "chat.completion",
            "model": "paced",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": events, "total_tokens": 5 + events},
        }
        return web.json_response(answer)
    resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    await resp.prepare(request)
    await resp.write(_event("word"))
    for _ in range(events - 1):
        await asyncio.sleep(gap_s)
        await resp.write(_event(" word"))
    usage = {"prompt_tokens": 5, "completion_tokens": events, "total_tokens": 5 + events}
    await resp.write(_event("", "stop", usage) + b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8082)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up where it is installed

        uvloop.install()
    except ImportError:
        pass
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None, backlog=4096)


if __name__ == "__main__":
    main()
