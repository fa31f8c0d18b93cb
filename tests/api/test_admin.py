"""The admin API on a real port: auth, reads, changes, kill, rollout, audit, SRM, bad input, the schema."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from gateway.app import build_state, create_app
from gateway.routing.assign import bucket
from gateway.settings import Settings
from gateway.state import GatewayState
from tests.flags.helpers import ADMIN_TOKEN, NAMED_TOKENS, READ_TOKEN, flags_config, wait_until
from tests.support.servers import free_port, serve_app


@dataclass
class Admin:
    """A served gateway and a way to call it."""

    url: str
    state: GatewayState

    def call(
        self, method: str, path: str, body: Any = None, *, token: str | None = ADMIN_TOKEN, raw: bytes | None = None
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def chat(self, user: str, agent: str = "support_agent") -> str:
        """Send one chat request for ``user`` and return the variant that served it."""
        body = {"model": agent, "messages": [{"role": "user", "content": "hello"}]}
        request = urllib.request.Request(
            self.url + "/v1/chat/completions",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"content-type": "application/json", "x-genesis-user": user},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["x-genesis-variant"])

    def flags(self, agent: str = "support_agent") -> dict[str, Any]:
        status, body = self.call("GET", f"/admin/agents/{agent}")
        assert status == 200, body
        return dict(body)


@contextlib.contextmanager
def _serve(settings: Settings) -> Iterator[Admin]:
    state = build_state(settings, flags_config(), registry=CollectorRegistry())
    with serve_app(create_app(state)) as url:
        yield Admin(url, state)


@pytest.fixture
def admin() -> Iterator[Admin]:
    """A gateway with the memory store and named tokens alice (rw) and grafana (ro)."""
    with _serve(Settings(admin_tokens=NAMED_TOKENS)) as served:
        yield served


def _candidate_user() -> str:
    """A unit the 30 % split of support_agent puts on the candidate."""
    return next(f"user-{i}" for i in range(1000) if bucket("support_agent", f"user-{i}") < 3000)


def test_no_token_and_wrong_token_are_401(admin: Admin) -> None:
    """Without a token, or with an unknown one, every admin route answers 401 in the Mistral shape."""
    for token in (None, "not-a-token"):
        status, body = admin.call("GET", "/admin/flags", token=token)
        assert status == 401 and body["object"] == "error" and body["type"] == "unauthorized"
        status, _ = admin.call("PATCH", "/admin/agents/support_agent", {"candidate_share": 1}, token=token)
        assert status == 401
    assert admin.flags()["version"] == 1


def test_read_only_token_reads_but_may_not_write(admin: Admin) -> None:
    """A read-only token lists flags and the audit log, and gets 403 on every write, changing nothing."""
    assert admin.call("GET", "/admin/flags", token=READ_TOKEN)[0] == 200
    assert admin.call("GET", "/admin/agents/support_agent/history", token=READ_TOKEN)[0] == 200
    writes = [
        ("PATCH", "/admin/agents/support_agent", {"candidate_share": 90}),
        ("POST", "/admin/agents/support_agent/kill", {}),
        ("POST", "/admin/agents/support_agent/revive", {}),
        ("POST", "/admin/agents/support_agent/rollout", {"steps": [5, 50], "interval_s": 60}),
        ("DELETE", "/admin/agents/support_agent/rollout", None),
    ]
    for method, path, body in writes:
        status, answer = admin.call(method, path, body, token=READ_TOKEN)
        assert (status, answer["type"], answer["code"]) == (403, "forbidden", "read_only_token"), path
    flags = admin.flags()
    assert (flags["version"], flags["candidate_share"], flags["enabled"]) == (1, 30.0, True)


def test_single_admin_token_from_settings() -> None:
    """GATEWAY_ADMIN_TOKEN (Settings.admin_token) alone grants read-write access, audited as ``admin``."""
    with _serve(Settings(admin_token="only-one")) as admin:
        status, body = admin.call("PATCH", "/admin/agents/qa_agent", {"sample_rate": 0.5}, token="only-one")
        assert status == 200 and body["sample_rate"] == 0.5
        _, log = admin.call("GET", "/admin/agents/qa_agent/history", token="only-one")
        assert log["data"][0]["actor"] == "admin"


def test_list_and_show(admin: Admin) -> None:
    """Every agent is listed; one agent's flags show share, version, phase and schedule."""
    status, body = admin.call("GET", "/admin/flags")
    assert status == 200 and [f["agent"] for f in body["data"]] == ["qa_agent", "support_agent"]
    flags = admin.flags()
    assert {k: flags[k] for k in ("candidate_share", "enabled", "version", "phase", "rollout")} == {
        "candidate_share": 30.0,
        "enabled": True,
        "version": 1,
        "phase": 1,
        "rollout": None,
    }


def test_change_is_served_and_audited_with_the_token_name(admin: Admin) -> None:
    """A share change applies to the next request and is in the audit log under the token's name."""
    user = _candidate_user()
    assert admin.chat(user) == "candidate"
    status, flags = admin.call(
        "PATCH", "/admin/agents/support_agent", {"candidate_share": 0.5, "pin": {"vip": "candidate"}}
    )
    assert status == 200 and (flags["candidate_share"], flags["version"], flags["phase"]) == (0.5, 2, 2)
    assert admin.chat("vip") == "candidate"
    _, log = admin.call("GET", "/admin/agents/support_agent/history?limit=5")
    entry = log["data"][0]
    assert entry["actor"] == "alice"
    assert (entry["old"]["candidate_share"], entry["new"]["candidate_share"]) == (30.0, 0.5)
    assert entry["new"]["overrides"] == {"vip": "candidate"}


def test_kill_and_revive(admin: Admin) -> None:
    """A kill sends even a candidate unit to the baseline at once; revive restores the split."""
    user = _candidate_user()
    status, flags = admin.call("POST", "/admin/agents/support_agent/kill")
    assert status == 200 and flags["enabled"] is False
    assert admin.chat(user) == "baseline"
    status, flags = admin.call("POST", "/admin/agents/support_agent/revive")
    assert status == 200 and flags["enabled"] is True and flags["version"] == 3
    assert admin.chat(user) == "candidate"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "mentions"),
    [
        ("PATCH", "/admin/agents/support_agent", {"candidate_share": 150}, 400, "candidate_share"),
        ("PATCH", "/admin/agents/support_agent", {"candidate_share": -1}, 400, "candidate_share"),
        ("PATCH", "/admin/agents/support_agent", {"sample_rate": 2}, 400, "sample_rate"),
        ("PATCH", "/admin/agents/support_agent", {"pin": {"u": "winner"}}, 400, "pin"),
        ("PATCH", "/admin/agents/support_agent", {"candidate_sharez": 5}, 400, "candidate_sharez"),
        ("PATCH", "/admin/agents/support_agent", {}, 400, "nothing to change"),
        ("PATCH", "/admin/agents/support_agent", {"pin": {"": "candidate"}}, 400, "unit ids"),
        ("PATCH", "/admin/agents/nobody", {"candidate_share": 5}, 404, "nobody"),
        ("POST", "/admin/agents/nobody/kill", {}, 404, "nobody"),
        ("GET", "/admin/agents/nobody", None, 404, "nobody"),
        ("GET", "/admin/agents/nobody/history", None, 404, "nobody"),
        ("POST", "/admin/agents/support_agent/rollout", {"steps": [5, 25, 20], "interval_s": 60}, 400, "increasing"),
        ("POST", "/admin/agents/support_agent/rollout", {"steps": [5, 120], "interval_s": 60}, 400, "0–100"),
        ("POST", "/admin/agents/support_agent/rollout", {"steps": [5, 25], "interval_s": 0}, 400, "interval_s"),
        ("POST", "/admin/agents/support_agent/rollout", {"steps": [], "interval_s": 60}, 400, "steps"),
        ("POST", "/admin/agents/support_agent/rollout", {"interval_s": 60}, 400, "steps"),
        ("DELETE", "/admin/agents/support_agent/rollout", None, 400, "no rollout"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_changes_nothing(  # noqa: PLR0917 - one per parameter column
    admin: Admin, method: str, path: str, body: Any, status: int, mentions: str
) -> None:
    """Out-of-range shares, unknown agents and malformed schedules get a Mistral-shaped 4xx; flags stay."""
    got, answer = admin.call(method, path, body)
    assert got == status, answer
    assert answer["object"] == "error" and mentions in answer["message"]
    flags = admin.flags()
    assert (flags["version"], flags["candidate_share"], flags["rollout"]) == (1, 30.0, None)
    assert admin.call("GET", "/admin/agents/support_agent/history")[1]["data"] == []


def test_pins_cannot_grow_the_overrides_past_the_cap(admin: Admin) -> None:
    """At 10,000 stored overrides a pin of a new unit is a 400 naming the cap; re-pinning a held unit still works."""
    full = {f"u{i}": "baseline" for i in range(10_000)}
    assert admin.call("PATCH", "/admin/agents/support_agent", {"overrides": full})[0] == 200
    status, answer = admin.call("PATCH", "/admin/agents/support_agent", {"pin": {"one-more": "candidate"}})
    assert status == 400 and answer["object"] == "error" and "at most 10,000 overrides" in answer["message"]
    assert admin.flags()["version"] == 2
    status, flags = admin.call("PATCH", "/admin/agents/support_agent", {"pin": {"u0": "candidate"}})
    assert status == 200 and len(flags["overrides"]) == 10_000


def test_malformed_json_is_400(admin: Admin) -> None:
    """A body that is not JSON is refused in the Mistral shape."""
    status, answer = admin.call("PATCH", "/admin/agents/support_agent", raw=b"{share: 5")
    assert status == 400 and answer["object"] == "error"
    assert admin.flags()["version"] == 1


def test_missing_body_is_400_saying_so_with_a_request_id(admin: Admin) -> None:
    """A PATCH without a body is refused in the Mistral shape, saying a JSON object is needed, with x-request-id."""
    request = urllib.request.Request(
        admin.url + "/admin/agents/support_agent",
        method="PATCH",
        headers={"authorization": f"Bearer {ADMIN_TOKEN}", "x-request-id": "admin-req-1"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    answer = json.loads(info.value.read())
    assert info.value.code == 400 and answer["object"] == "error"
    assert "JSON object" in answer["message"]
    assert info.value.headers["x-request-id"] == "admin-req-1"


def test_rollout_start_and_stop(admin: Admin) -> None:
    """Starting a schedule applies its first step now; stopping it keeps the current share."""
    status, flags = admin.call(
        "POST", "/admin/agents/support_agent/rollout", {"steps": [5, 25, 50, 100], "interval_s": 1800}
    )
    assert status == 200 and flags["candidate_share"] == 5.0
    assert flags["rollout"]["steps"] == [5.0, 25.0, 50.0, 100.0] and flags["rollout"]["step"] == 0
    assert flags["rollout"]["started_by"] == "alice"
    status, flags = admin.call("DELETE", "/admin/agents/support_agent/rollout")
    assert status == 200 and flags["rollout"] is None and flags["candidate_share"] == 5.0
    notes = [e["note"] for e in admin.call("GET", "/admin/agents/support_agent/history")[1]["data"]]
    assert notes[0] == "rollout stopped" and notes[1].startswith("rollout started: 5 → 25 → 50 → 100 %")


def test_a_killed_agent_cannot_start_a_rollout(admin: Admin) -> None:
    """Starting a schedule on a killed agent is refused until it is revived."""
    admin.call("POST", "/admin/agents/support_agent/kill")
    status, answer = admin.call("POST", "/admin/agents/support_agent/rollout", {"steps": [5, 50], "interval_s": 60})
    assert status == 400 and "revive" in answer["message"]


def test_assignment_counts_and_srm_per_phase(admin: Admin) -> None:
    """Hash-assigned units are counted per variant; a share change starts a new phase from zero."""
    users = [f"user-{i}" for i in range(60)]
    served = [admin.chat(u) for u in users]
    admin.chat("someone", agent="qa_agent")
    status, report = admin.call("GET", "/admin/agents/support_agent/assignments")
    assert status == 200 and report["phase"] == 1
    assert report["counts"] == {"candidate": served.count("candidate"), "baseline": served.count("baseline")}
    assert report["srm"]["status"] in ("ok", "mismatch") and "share changes" in report["note"]
    admin.call("PATCH", "/admin/agents/support_agent", {"candidate_share": 40})
    _, report = admin.call("GET", "/admin/agents/support_agent/assignments")
    assert report["phase"] == 2 and report["counts"] == {"candidate": 0, "baseline": 0}
    _, everything = admin.call("GET", "/admin/srm")
    assert [r["agent"] for r in everything["data"]] == ["qa_agent", "support_agent"]


def test_admin_routes_are_in_the_openapi_schema(admin: Admin) -> None:
    """Litestar's schema lists every admin route with the bearer security scheme."""
    with urllib.request.urlopen(admin.url + "/schema/openapi.json", timeout=10) as response:
        schema = json.load(response)
    paths = {p for p in schema["paths"] if p.startswith("/admin/")}
    assert paths >= {
        "/admin/flags",
        "/admin/srm",
        "/admin/agents/{agent}",
        "/admin/agents/{agent}/kill",
        "/admin/agents/{agent}/revive",
        "/admin/agents/{agent}/rollout",
        "/admin/agents/{agent}/history",
        "/admin/agents/{agent}/assignments",
    }
    assert schema["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    assert schema["paths"]["/admin/agents/{agent}"]["patch"]["security"] == [{"adminToken": []}]


@pytest.mark.redis
def test_dead_redis_refuses_changes_but_chat_and_reads_go_on() -> None:
    """With Redis unreachable a change is 503 (nothing changed) while chat requests and reads keep working."""
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with _serve(Settings(redis_url=dead, admin_tokens=NAMED_TOKENS, redis_prefix="test:dead:")) as admin:
        assert admin.chat("anyone") in ("candidate", "baseline")
        status, answer = admin.call("PATCH", "/admin/agents/support_agent", {"candidate_share": 5})
        assert status == 503 and answer["code"] == "store_unavailable" and "unchanged" in answer["message"]
        assert admin.flags()["candidate_share"] == 30.0
        sample = admin.state.registry.get_sample_value
        wait_until(lambda: (sample("genesis_redis_errors_total", {"component": "flags_sync"}) or 0) > 0)
        wait_until(lambda: (sample("genesis_flags_staleness_seconds") or 0) > 0)
        with urllib.request.urlopen(admin.url + "/healthz", timeout=5) as response:
            assert response.status == 200
