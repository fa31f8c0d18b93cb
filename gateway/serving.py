"""A serving process: uvicorn serving ``gateway.asgi`` with the measured settings.

``serve`` execs it with ``--host``/``--port`` (one worker); ``gateway.supervise`` starts one per
listening socket it holds, with ``--fd N``. Imports uvicorn and the app only, not the CLI.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Serve the gateway (GATEWAY_* settings) with uvicorn.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--fd", type=int, help="an inherited listening socket to serve on, instead of host and port")
    a = p.parse_args(argv)
    config = uvicorn.Config(
        "gateway.asgi:create_from_env",
        factory=True,
        host=a.host,
        port=a.port,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        log_level="warning",
        access_log=False,
        # The gateway uses no client address, so uvicorn need not rewrite it from X-Forwarded-* on
        # every request; and it need not announce itself. Both cost per request (docs/performance.md).
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=None if a.fd is None else [socket.socket(fileno=a.fd)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
