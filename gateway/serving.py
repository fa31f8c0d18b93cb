"""One worker of ``serve --workers N``: uvicorn serving ``gateway.asgi`` on a listening socket it inherits.

Started by ``gateway.supervise`` with ``--fd N``; the settings are those ``serve`` gives uvicorn
with one worker (``gateway.cli.serve.uvicorn_argv``). Imports uvicorn and the app only.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Serve the gateway on an inherited listening socket.")
    p.add_argument("--fd", type=int, required=True)
    a = p.parse_args(argv)
    sock = socket.socket(fileno=a.fd)
    config = uvicorn.Config(
        "gateway.asgi:create_from_env",
        factory=True,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
