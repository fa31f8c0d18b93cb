"""The serving process's collector settings: frozen start-up objects and higher thresholds, once started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.servers import ROOT

CONFIG = """
upstreams:
  sim: {kind: simulated}
agents:
  support_agent:
    candidate: {model: "ft:sim:support", upstream: sim}
    baseline: {model: sim-base, upstream: sim}
"""

# Run in a child: freezing the collector in the test process would outlive this test.
PROBE = """
import gc, json
from litestar.testing import TestClient
from gateway.asgi import create_from_env
before = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
with TestClient(create_from_env()) as client:
    assert client.get("/healthz").status_code == 200
    after = {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}
print(json.dumps({"before": before, "after": after}))
"""


def test_a_served_gateway_freezes_its_start_up_objects_and_collects_less_often(tmp_path: Path) -> None:
    """The app ``serve`` runs tunes the collector when it starts: everything built so far is frozen
    (never scanned again) and the thresholds are raised from CPython's (700, 10, 10)."""
    config = tmp_path / "gateway.yaml"
    config.write_text(CONFIG)
    env = {"GATEWAY_CONFIG": str(config), "GATEWAY_LOG_FORMAT": "json", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == {"threshold": [700, 10, 10], "frozen": 0}
    assert seen["after"]["threshold"] == [7000, 20, 50]
    assert seen["after"]["frozen"] > 10_000
