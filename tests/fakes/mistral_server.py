"""A fake Mistral API server for tests, run in its own process: ``python -m tests.fakes.mistral_server --port N``.

It answers ``POST /v1/chat/completions`` in the Mistral wire format (JSON, or SSE with usage on the
final chunk and ``data: [DONE]``; asked for ``stream_options.include_usage``, as an OpenAI-compatible
server, usage comes in a last chunk of its own with no choices), checks ``Authorization: Bearer <key>`` against ``--api-key``, and
behaves according to the request's ``model``:

* ``fail-<status>``  -> that status with a Mistral-shaped error body (422: the validation shape);
  429 also carries ``retry-after: 7``
* ``cut-stream``     -> streams two chunks, then drops the TCP connection (non-stream: drops it at once)
* ``slow-<ms>``      -> waits that many milliseconds before answering and, when streaming, between chunks
* ``no-done``        -> streams the answer but ends without ``data: [DONE]`` (the SDK accepts that)
* anything else      -> ``echo <model>: <last user message>``

Every request is recorded (path, lower-cased headers, decoded body, outcome); ``GET /_received``
returns the records as JSON and ``POST /_reset`` clears them. A record's ``outcome`` ends as
``completed``, ``rejected`` (auth or ``fail-*``), ``cut`` or ``client_disconnected`` — the last when a
streaming client (the gateway) closed the connection before the answer was complete.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import uuid
from typing import Any

from aiohttp import web

_FAIL = re.compile(r"^fail-(\d{3})$")
_SLOW = re.compile(r"^slow-(\d+)$")
_RECEIVED = web.AppKey("received", list)
_API_KEY = web.AppKey("api_key", str)


def usage_of(body: dict[str, Any], answer: str) -> dict[str, int]:
    """Deterministic token counts: words in every message's string content, words in the answer."""
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []) if isinstance(m, dict))
    completion = len(answer.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def answer_of(body: dict[str, Any]) -> str:
    """The echo answer: the model id and the last user message."""
    last = ""
    for message in body.get("messages", []):
        if isinstance(message, dict) and message.get("role") == "user":
            last = str(message.get("content") or "")
    return f"echo {body.get('model')}: {last}"


def _error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    body = {"object": "error", "message": message, "type": kind, "param": None, "code": code}
    headers = {"retry-after": "7"} if status == 429 else None
    return web.json_response(body, status=status, headers=headers)


def _validation_error() -> web.Response:
    detail = [
        {"type": "extra_forbidden", "loc": ["body", "bogus"], "msg": "Extra inputs are not permitted", "input": 1}
    ]
    payload = {
        "object": "error",
        "message": {"detail": detail},
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    return web.json_response(payload, status=422)


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None, usage: dict[str, int] | None) -> bytes:
    chunk: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["usage"] = usage
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _usage_chunk(cid: str, model: str, usage: dict[str, int]) -> bytes:
    chunk = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    return b"data: " + json.dumps({**chunk, "choices": [], "usage": usage}).encode() + b"\n\n"


def _refusal(request: web.Request, body: Any) -> web.Response | None:
    """The error answer for a bad key, a bad body or a ``fail-<status>`` model; ``None`` to answer."""
    if request.headers.get("authorization") != f"Bearer {request.app[_API_KEY]}":
        return web.json_response({"message": "Unauthorized", "request_id": uuid.uuid4().hex}, status=401)
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return _error(400, "Invalid request: body must be a JSON object with a model", "invalid_request_error")
    failing = _FAIL.match(body["model"])
    if failing is None:
        return None
    status = int(failing.group(1))
    if status == 422:
        return _validation_error()
    return _error(status, f"fake upstream failure {status}", "fake_failure", str(status))


async def chat(request: web.Request) -> web.StreamResponse:
    """Answer one chat request according to its model id."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    record: dict[str, Any] = {
        "path": request.path,
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": body,
        "outcome": "pending",
    }
    request.app[_RECEIVED].append(record)
    refusal = _refusal(request, body)
    if refusal is not None:
        record["outcome"] = "rejected"
        return refusal
    model: str = body["model"]
    slow = _SLOW.match(model)
    delay = int(slow.group(1)) / 1000 if slow else 0.0
    if body.get("stream"):
        return await _stream(request, body, record, delay)
    if model == "cut-stream":
        record["outcome"] = "cut"
        assert request.transport is not None
        request.transport.close()
        return web.Response()
    await asyncio.sleep(delay)
    answer = answer_of(body)
    record["outcome"] = "completed"
    return web.json_response(
        {
            "id": "cmpl-" + uuid.uuid4().hex[:12],
            "object": "chat.completion",
            "model": model,
            "created": int(time.time()),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer, "tool_calls": None},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage_of(body, answer),
        }
    )


async def _stream(
    request: web.Request, body: dict[str, Any], record: dict[str, Any], delay: float
) -> web.StreamResponse:
    model: str = body["model"]
    cid = "cmpl-" + uuid.uuid4().hex[:12]
    answer = answer_of(body)
    words = answer.split(" ")
    resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    events = [_chunk(cid, model, {"role": "assistant", "content": ""}, None, None)]
    events += [_chunk(cid, model, {"content": w if i == 0 else " " + w}, None, None) for i, w in enumerate(words)]
    usage = usage_of(body, answer)
    if (body.get("stream_options") or {}).get("include_usage"):
        # OpenAI's dialect: the finish chunk has no usage; a last chunk with no choices carries it.
        events.append(_chunk(cid, model, {"content": ""}, "stop", None))
        events.append(_usage_chunk(cid, model, usage))
    else:
        events.append(_chunk(cid, model, {"content": ""}, "stop", usage))
    if model != "no-done":
        events.append(b"data: [DONE]\n\n")
    try:
        for i, event in enumerate(events):
            if model == "cut-stream" and i == 2:
                record["outcome"] = "cut"
                assert request.transport is not None
                request.transport.close()
                return resp
            await asyncio.sleep(delay)
            if request.transport is None or request.transport.is_closing():
                raise ConnectionResetError("client went away")
            await resp.write(event)
        await resp.write_eof()
    except ConnectionError:
        record["outcome"] = "client_disconnected"
        return resp
    except asyncio.CancelledError:
        record["outcome"] = "client_disconnected"
        raise
    record["outcome"] = "completed"
    return resp


async def received(request: web.Request) -> web.Response:
    """Every request recorded since the last reset."""
    return web.json_response(request.app[_RECEIVED])


async def reset(request: web.Request) -> web.Response:
    """Forget the recorded requests."""
    request.app[_RECEIVED].clear()
    return web.json_response({"ok": True})


def make_app(api_key: str) -> web.Application:
    """The fake server's app, accepting ``api_key``."""
    app = web.Application()
    app[_RECEIVED] = []
    app[_API_KEY] = api_key
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/_received", received)
    app.router.add_post("/_reset", reset)
    return app


def main() -> None:
    """Parse the command line and serve until terminated."""
    parser = argparse.ArgumentParser(description="Fake Mistral API server for tests.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default="fake-mistral-key")
    args = parser.parse_args()
    web.run_app(make_app(args.api_key), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
