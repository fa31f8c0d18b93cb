"""The fixed-answer upstream: nginx answering every chat request with a fixed Mistral-shaped answer.

nginx answers ``POST /v1/chat/completions`` with a JSON completion held in its config
(``return 200``) or, when the request accepts ``text/event-stream``, with a static file of SSE
chunks ending with usage and ``[DONE]`` (from its open-file cache). It runs as one process (``master_process off``) pinned to the load
generator's core, so it costs the gateway's core nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

MODEL = "open-mistral-7b"
ANSWER = (
    "Thanks for reaching out. I have checked your order and it left our warehouse this morning; "
    "you will get a tracking link by e-mail within the hour. If it has not arrived by Friday, reply "
    "here and I will send a replacement at no cost."
)
ANSWER_WORDS = ANSWER.split()

COMPLETION = {
    "id": "cmpl-e5cc70bb28c444948073e77776eb30ef",
    "object": "chat.completion",
    "created": 1702256327,
    "model": MODEL,
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": ANSWER, "tool_calls": None, "prefix": False},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 57, "completion_tokens": 52, "total_tokens": 109},
}


def sse_stream() -> str:
    """The streamed answer: a role chunk, one chunk per word, a final chunk with usage, ``[DONE]``."""

    def chunk(delta: dict[str, str], finish: str | None = None, usage: dict[str, int] | None = None) -> str:
        body: dict[str, object] = {
            "id": COMPLETION["id"],
            "object": "chat.completion.chunk",
            "created": COMPLETION["created"],
            "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            body["usage"] = usage
        return "data: " + json.dumps(body, separators=(",", ":")) + "\n\n"

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": (" " if i else "") + word}) for i, word in enumerate(ANSWER_WORDS)]
    events.append(chunk({"content": ""}, "stop", COMPLETION["usage"]))  # type: ignore[arg-type]
    return "".join(events) + "data: [DONE]\n\n"


def request_body(model: str, *, stream: bool) -> str:
    """A chat request such as an agent sends: a system prompt and one user turn."""
    return json.dumps(
        {
            "model": model,
            "messages": [
                {"role": "system", "content": "You are the support agent of an online shop. Be brief and concrete."},
                {"role": "user", "content": "Where is my order 48213? I ordered it a week ago and have no news."},
            ],
            "temperature": 0.3,
            "max_tokens": 256,
            "stream": stream,
        },
        separators=(",", ":"),
    )


def _nginx_string(text: str) -> str:
    """``text`` as a single-quoted nginx string (the config parser turns ``\\n`` back into newlines)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _write_nginx_config(root: Path, http_block: str) -> Path:
    """``root/nginx.conf``: one nginx process, its files under ``root``, serving ``http_block``."""
    conf = f"""
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    client_body_buffer_size 64k;
{http_block}
}}
"""
    path = root / "nginx.conf"
    path.write_text(conf)
    return path


def nginx_config(workdir: Path, port: int) -> Path:
    """Write the config of a one-process nginx on ``port`` and return its path."""
    root = workdir / "nginx"
    root.mkdir(exist_ok=True)
    completion = json.dumps(COMPLETION, separators=(",", ":"))
    (root / "stream.sse").write_text(sse_stream())  # too long for a config string
    return _write_nginx_config(
        root,
        f"""
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /v1/chat/completions {{
            if ($http_accept ~* event-stream) {{ rewrite ^ /sse last; }}
            default_type application/json;
            return 200 {_nginx_string(completion)};
        }}
        location = /sse {{
            internal;
            default_type text/event-stream;
            alias {root}/stream.sse;
            error_page 405 =200 $uri;  # the static module refuses POST; answer the file anyway
        }}
    }}""",
    )


def nginx_proxy_config(workdir: Path, name: str, port: int, upstream_port: int) -> Path:
    """Write the config of a one-process nginx on ``port`` that only relays to ``upstream_port``.

    A reverse proxy in C, for reference: what one hop costs on this machine without Python. Like
    the gateway it keeps its upstream connections alive and relays a stream as it comes
    (``proxy_buffering off``).
    """
    root = workdir / name
    root.mkdir(exist_ok=True)
    return _write_nginx_config(
        root,
        f"""
    upstream target {{
        server 127.0.0.1:{upstream_port};
        keepalive 256;
        keepalive_requests 10000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://target;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}""",
    )
