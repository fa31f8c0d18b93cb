"""``genesis-gateway export samples``: Mistral fine-tuning JSONL with a review sheet, and full JSONL."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx2
import pytest
import redis.asyncio as aioredis
from mistralai.client import Mistral
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from gateway.app import build_state, create_app
from gateway.cli import app
from gateway.sampling.record import ChatMessage
from gateway.sampling.results import RedisScoreStore
from gateway.settings import GatewayConfig, ScoringSettings, Settings
from tests.conftest import REDIS_URL
from tests.sampling.helpers import scored
from tests.support.servers import serve_app

HISTORY = [
    ChatMessage("system", "You are a QA engineer."),
    ChatMessage("user", "How do I test async code?"),
    ChatMessage("assistant", "Use pytest-asyncio."),
    ChatMessage("user", "And database fixtures?"),
]


@pytest.fixture
async def stored(redis_client: aioredis.Redis, redis_prefix: str) -> str:
    """Three scored qa_agent samples in Redis (overall 9.0 / 6.0 / 7.5, specificity 8 / 5 / 6.5) and one with a tool turn."""
    store = RedisScoreStore(redis_client, ScoringSettings(key_prefix=redis_prefix))
    await store.record(scored("good", overall=9.0, specificity=8.0, messages=HISTORY, answer="Use a session fixture."))
    await store.record(scored("bad", overall=6.0, specificity=5.0, variant="baseline", answer="It depends."))
    await store.record(scored("meh", overall=7.5, specificity=6.5, answer="Use fixtures."))
    tool_turn = [ChatMessage("user", "run it"), ChatMessage("tool", "{}")]
    await store.record(scored("tool", overall=3.0, specificity=3.0, messages=tool_turn))
    return redis_prefix


async def _export(tmp_path: Path, prefix: str, *args: str) -> tuple[int, str]:
    config = tmp_path / "gateway.yaml"
    config.write_text(
        json.dumps(
            {
                "upstreams": {"sim": {"kind": "simulated"}},
                "agents": {},
                "redis_url": REDIS_URL,
                "scoring": {"key_prefix": prefix},
            }
        )
    )
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, ["export", "samples", "--config", str(config), "--agent", "qa_agent", *args]
    )
    return result.exit_code, result.output


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_mistral_ft_writes_only_messages_and_flags_low_scorers(tmp_path: Path, stored: str) -> None:
    """Low scorers on the dimension are exported as {"messages": [...]} lines whose final answer has weight 0."""
    out = tmp_path / "train.jsonl"
    code, output = await _export(
        tmp_path, stored, "--below", "7.0", "--dimension", "specificity", "--format", "mistral-ft", "--out", str(out)
    )
    assert code == 0, output
    lines = _lines(out)
    assert len(lines) == 2  # bad (5.0) and meh (6.5); the tool conversation cannot be a training line
    for line in lines:
        assert set(line) == {"messages"}
        messages = line["messages"]
        assert isinstance(messages, list)
        assert messages[-1]["role"] == "assistant" and messages[-1]["weight"] == 0
        assert {m["role"] for m in messages} <= {"system", "user", "assistant"}
    review = _lines(tmp_path / "train.review.jsonl")
    assert [r["request_id"] for r in review] == ["meh", "bad"]
    assert all(r["flag"] == "rewrite" and r["dimension"] == "specificity" for r in review)
    assert review[1]["scores"]["specificity"]["value"] == 5.0  # type: ignore[index]
    assert "2 samples written (2 flagged for rewriting, 1 skipped)" in output


async def test_mistral_ft_without_threshold_keeps_passing_answers_trainable(tmp_path: Path, stored: str) -> None:
    """Without --below, passing answers are trainable as they are and failing ones are flagged; history never trains."""
    out = tmp_path / "all.jsonl"
    code, output = await _export(tmp_path, stored, "--format", "mistral-ft", "--out", str(out))
    assert code == 0, output
    by_answer = {line["messages"][-1]["content"]: line["messages"] for line in _lines(out)}  # type: ignore[index]
    good = by_answer["Use a session fixture."]
    assert "weight" not in good[-1]
    assert [m.get("weight") for m in good if m["role"] == "assistant"] == [0, None]
    assert by_answer["It depends."][-1]["weight"] == 0


async def test_jsonl_writes_everything_with_scores(tmp_path: Path, stored: str) -> None:
    """--format jsonl writes each selected sample whole: record, every dimension's score and explanation, flag."""
    out = tmp_path / "dump.jsonl"
    code, output = await _export(tmp_path, stored, "--format", "jsonl", "--variant", "baseline", "--out", str(out))
    assert code == 0, output
    [line] = _lines(out)
    assert line["record"]["request_id"] == "bad"  # type: ignore[index]
    assert line["dimensions"]["specificity"] == {"value": 5.0, "explanation": "some commands"}  # type: ignore[index]
    assert line["overall"] == 6.0 and line["flagged"] is True


async def test_bad_dimension_and_missing_redis_are_refused(tmp_path: Path, stored: str) -> None:
    """An unknown dimension, or no Redis to read from, exits with status 2 and a message."""
    code, output = await _export(tmp_path, stored, "--dimension", "charm")
    assert code == 2 and "--dimension" in output
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, app, ["export", "samples", "--agent", "qa_agent"], env={})
    assert result.exit_code == 2 and "redis" in result.output.lower()


def test_url_exports_what_an_embedded_gateway_scored(tmp_path: Path) -> None:
    """With --url, export reads a running gateway's admin API: answers the embedded home scored in its own memory."""
    config = GatewayConfig.model_validate(
        {
            "upstreams": {"sim": {"kind": "simulated", "simulator": {"first_token_ms": 0}}},
            "agents": {
                "qa_agent": {
                    "candidate": {"model": "ft:sim-base:qa", "upstream": "sim"},
                    "baseline": {"model": "sim-base", "upstream": "sim"},
                    "sample_rate": 1,
                }
            },
        }
    )
    state = build_state(Settings(admin_tokens="ml:export-token:content"), config, registry=CollectorRegistry())
    questions = ["How do I test async code?", "How do I mock a clock?", "What is a fixture?"]
    with serve_app(create_app(state)) as url:
        client = Mistral(api_key="unused", server_url=url)
        answers = {}
        for question in questions:
            reply = client.chat.complete(model="qa_agent", messages=[{"role": "user", "content": question}])
            answers[question] = reply.choices[0].message.content
        deadline = time.monotonic() + 10
        path = f"{url}/admin/experiments/qa_agent/samples"
        headers = {"authorization": "Bearer export-token"}
        while len(httpx2.get(path, headers=headers).json()["data"]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        out = tmp_path / "train.jsonl"
        args = ["--url", url, "--token", "export-token", "--agent", "qa_agent", "--format", "mistral-ft"]
        result = CliRunner().invoke(app, ["export", "samples", *args, "--out", str(out)])
        refused = CliRunner().invoke(app, ["export", "samples", "--url", url, "--agent", "qa_agent"], env={})
    assert result.exit_code == 0, result.output
    exported = {line["messages"][0]["content"]: line["messages"][-1]["content"] for line in _lines(out)}  # type: ignore[index]
    assert exported == answers
    assert refused.exit_code == 1 and "401" in refused.output
