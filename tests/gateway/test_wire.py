"""The wire format as the request path reads it: request parsing, completion facts, the SSE scanner."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.errors import BadRequest
from gateway.wire import DONE_EVENT, SseScanner, content_text, error_chunk, parse_chat, read_completion


def chunk(content: str | None, finish: str | None = None, usage: dict[str, int] | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    body: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def sse(events: list[dict[str, Any]], *, newline: str = "\n", done: bool = True) -> bytes:
    parts = [f"data: {json.dumps(e)}{newline}{newline}" for e in events]
    if done:
        parts.append(f"data: [DONE]{newline}{newline}")
    return "".join(parts).encode()


STREAM = [
    chunk(""),
    chunk("Hel"),
    chunk("lo"),
    chunk("", "stop", {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
]


def scan_in_pieces(data: bytes, size: int, *, want_text: bool = True) -> tuple[SseScanner, list[bytes]]:
    scanner = SseScanner(want_text=want_text)
    out = [scanner.feed(data[i : i + size]) for i in range(0, len(data), size)]
    out.append(scanner.flush())
    return scanner, out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 61, 1000, 100_000])
def test_scanner_relays_whole_events_whatever_the_piece_size(size: int) -> None:
    """Fed in pieces of any size, the scanner relays the exact bytes, each piece ending on an event boundary."""
    data = sse(STREAM)
    scanner, out = scan_in_pieces(data, size)
    assert b"".join(out) == data
    for piece in out[:-1]:
        assert piece == b"" or piece.endswith(b"\n\n")
    assert scanner.facts.input_tokens == 5
    assert scanner.facts.output_tokens == 2
    assert scanner.facts.finish_reason == "stop"
    assert scanner.done
    assert scanner.text() == "Hello"


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_scanner_handles_crlf_events(size: int) -> None:
    """CRLF-separated events are cut at \\r\\n\\r\\n and read the same as LF ones."""
    data = sse(STREAM, newline="\r\n")
    scanner, out = scan_in_pieces(data, size)
    assert b"".join(out) == data
    for piece in out[:-1]:
        assert piece == b"" or piece.endswith(b"\r\n\r\n")
    assert (scanner.facts.input_tokens, scanner.facts.output_tokens) == (5, 2)
    assert scanner.done
    assert scanner.text() == "Hello"


WORDS = [f" word{i}" for i in range(60)]
LONG_STREAM = [
    chunk(""),
    *[chunk(w) for w in WORDS],
    chunk("", "length", {"prompt_tokens": 11, "completion_tokens": 60}),
]
"""Over 1 kB of events: a piece this size is read with one decode of all its events."""


@pytest.mark.parametrize(
    "variant",
    ["plain", "crlf", "comments", "bad event", "no space", "list content"],
)
@pytest.mark.parametrize("size", [1, 61, 2048, 100_000])
def test_scanner_reads_many_events_at_once_or_line_by_line_alike(variant: str, size: int) -> None:
    """Text, usage, finish reason and [DONE] read from big pieces (one decode for all their events) equal
    those read event by event, whatever the framing: a framing or event the bulk read cannot take falls
    back to reading line by line."""
    data = sse(LONG_STREAM, newline="\r\n" if variant == "crlf" else "\n")
    if variant == "comments":
        data = data.replace(b"\n\ndata:", b"\n\n: keep-alive\n\ndata:", 5)
    elif variant == "bad event":
        data = data.replace(b"\n\ndata:", b"\n\ndata: {not json\n\ndata:", 1)
    elif variant == "no space":
        data = data.replace(b"data: ", b"data:")
    elif variant == "list content":
        data = data.replace(b'"content": " word7"', b'"content": [{"type": "text", "text": " word7"}]')
    scanner, out = scan_in_pieces(data, size)
    assert b"".join(out) == data
    assert scanner.text() == "".join(WORDS)
    assert (scanner.facts.input_tokens, scanner.facts.output_tokens) == (11, 60)
    assert scanner.facts.finish_reason == "length"
    assert scanner.done and scanner.saw_content


def test_scanner_holds_back_a_partial_event() -> None:
    """A piece ending mid-event returns only the whole events before it; the rest comes with the next piece."""
    first, second = (f"data: {json.dumps(chunk('a'))}\n\n").encode(), (f"data: {json.dumps(chunk('b'))}\n\n").encode()
    scanner = SseScanner(want_text=True)
    assert scanner.feed(first + second[:10]) == first
    assert scanner.text() == "a"
    assert scanner.feed(second[10:]) == second
    assert scanner.text() == "ab"


def test_scanner_cut_returns_whole_events_unread_and_scan_reads_them() -> None:
    """The relay sends what ``cut`` returns before it reads it: ``cut`` reads nothing, ``scan`` reads it all."""
    data = sse(STREAM)
    scanner = SseScanner(want_text=False)
    ready = scanner.cut(data + b"data: {partial")
    assert ready == data
    assert not scanner.saw_content and not scanner.done and scanner.facts.output_tokens == 0
    scanner.scan(ready)
    assert scanner.saw_content and scanner.done
    assert (scanner.facts.input_tokens, scanner.facts.output_tokens, scanner.facts.finish_reason) == (5, 2, "stop")


@pytest.mark.parametrize(
    ("ending", "whole"),
    [
        (b"data: a\n\ndata: b\r\n\r\ndata: c", b"data: a\n\ndata: b\r\n\r\n"),
        (b"data: a\r\n\r\ndata: b\n\ndata: c", b"data: a\r\n\r\ndata: b\n\n"),
        (b"data: a\r\n\r\ndata: b\r\n\r\ndata: c\n", b"data: a\r\n\r\ndata: b\r\n\r\n"),
        (b"data: a\n\ndata: b\n\ndata: c\r\n", b"data: a\n\ndata: b\n\n"),
    ],
)
def test_scanner_cuts_after_the_last_whole_event_whichever_line_ends_it(ending: bytes, whole: bytes) -> None:
    """LF and CRLF events mixed in one piece: everything up to the last blank line is ready, the rest held."""
    scanner = SseScanner(want_text=False)
    assert scanner.cut(ending) == whole
    assert scanner.flush() == ending[len(whole) :]


DONE_CASES = {
    "done last": (sse(STREAM), True),
    "done last, crlf": (sse(STREAM, newline="\r\n"), True),
    "done last, no space": (sse(STREAM).replace(b"data: [DONE]", b"data:[DONE]"), True),
    "done, then a comment": (sse(STREAM) + b": ping\n\n", True),
    "no done": (sse(STREAM, done=False), False),
    "a comment ending like done": (sse(STREAM, done=False) + b": data: [DONE]\n\n", False),
    "done inside a data line": (sse(STREAM, done=False) + b"data: x data: [DONE]\n\n", False),
}


@pytest.mark.parametrize("case", DONE_CASES)
@pytest.mark.parametrize("size", [7, 100_000])
def test_scanner_without_text_is_done_on_a_done_line_alone(case: str, size: int) -> None:
    """Not keeping text, [DONE] is found as a data line of its own wherever the piece has it, and nowhere else."""
    data, done = DONE_CASES[case]
    scanner, out = scan_in_pieces(data, size, want_text=False)
    assert b"".join(out) == data
    assert scanner.done is done
    assert (scanner.facts.input_tokens, scanner.facts.finish_reason) == (5, "stop")


def test_scanner_reads_usage_from_a_usage_only_last_chunk() -> None:
    """Usage on a final chunk with no choices (the OpenAI include_usage shape) is read too."""
    usage_only = {"id": "c", "model": "m", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}
    scanner, _ = scan_in_pieces(sse([chunk("x", "stop"), usage_only]), 4)
    assert (scanner.facts.input_tokens, scanner.facts.output_tokens) == (9, 4)
    assert scanner.facts.finish_reason == "stop"


def test_scanner_without_done_is_not_done() -> None:
    """A stream that ends without [DONE] leaves done False, so the relay can add it."""
    scanner, _ = scan_in_pieces(sse(STREAM, done=False), 8)
    assert not scanner.done
    assert scanner.facts.finish_reason == "stop"


def test_scanner_ignores_comments_and_undecodable_data() -> None:
    """Keep-alive comments and non-JSON data lines are relayed but neither break nor count."""
    data = b": ping\n\ndata: not json\n\n" + sse(STREAM)
    scanner, out = scan_in_pieces(data, 3)
    assert b"".join(out) == data
    assert scanner.text() == "Hello"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("size", [1, 3, 7, 61, 100_000])
def test_scanner_without_text_reads_the_same_facts(size: int, newline: str) -> None:
    """Not keeping text (only usage, finish reason, [DONE] decoded past the first token), the facts are the same."""
    data = sse([*STREAM[:3], chunk(" more"), chunk('said "finish_reason": "x"'), STREAM[3]], newline=newline)
    scanner, out = scan_in_pieces(data, size, want_text=False)
    assert b"".join(out) == data
    assert (scanner.facts.input_tokens, scanner.facts.output_tokens) == (5, 2)
    assert scanner.facts.finish_reason == "stop"
    assert scanner.done
    assert scanner.saw_content
    assert scanner.text() is None


def test_scanner_without_text_reads_compact_json_and_usage_only_chunks() -> None:
    """Compact JSON (no spaces) and a usage-only final chunk are read when text is not kept."""
    events = [chunk("a"), chunk("b", "length"), {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}]
    data = "".join(f"data: {json.dumps(e, separators=(',', ':'))}\n\n" for e in events).encode() + DONE_EVENT
    scanner, _ = scan_in_pieces(data, 100_000, want_text=False)
    assert (scanner.facts.input_tokens, scanner.facts.output_tokens, scanner.facts.finish_reason) == (3, 1, "length")
    assert scanner.done


def test_scanner_without_text_keeps_the_last_usage_and_finish_reason_like_a_full_decode() -> None:
    """Several finish reasons and usages in one piece: the last of each wins, with or without text."""
    events = [
        chunk("a"),
        chunk("b", "length", {"prompt_tokens": 1, "completion_tokens": 1}),
        chunk("c"),
        chunk("", "stop"),
        {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 3}},
        chunk(None),
    ]
    data = sse(events)
    full, _ = scan_in_pieces(data, 100_000, want_text=True)
    fast, _ = scan_in_pieces(data, 100_000, want_text=False)
    assert (fast.facts.input_tokens, fast.facts.output_tokens, fast.facts.finish_reason) == (8, 3, "stop")
    assert (full.facts.input_tokens, full.facts.output_tokens, full.facts.finish_reason) == (8, 3, "stop")
    assert fast.done and full.done


def test_scanner_saw_content_only_after_a_non_empty_delta() -> None:
    """saw_content (which times the first token) stays False for the empty role chunk."""
    scanner = SseScanner(want_text=False)
    scanner.feed(sse([chunk("")], done=False))
    assert not scanner.saw_content
    scanner.feed(sse([chunk("x")], done=False))
    assert scanner.saw_content
    assert scanner.text() is None


def test_error_chunk_parses_as_a_final_chunk_with_finish_reason_error() -> None:
    """The closing events of a broken stream are a chunk with finish_reason 'error', then [DONE]."""
    data = error_chunk("model-x", "gw-1")
    scanner, _ = scan_in_pieces(data, 1000)
    assert scanner.facts.finish_reason == "error"
    assert scanner.done
    event = json.loads(data.split(b"\n\n")[0][len(b"data: ") :])
    assert event["model"] == "model-x"
    assert event["id"] == "gw-1"
    assert event["choices"][0]["delta"] == {"content": ""}
    assert data.endswith(DONE_EVENT)


def test_read_completion_reads_usage_finish_reason_and_text() -> None:
    """A non-streaming answer yields its token counts, finish reason and (when asked) its text."""
    body = {
        "id": "x",
        "object": "chat.completion",
        "model": "m",
        "created": 1,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
    facts = read_completion(json.dumps(body).encode(), want_text=True)
    assert (facts.input_tokens, facts.output_tokens, facts.finish_reason, facts.text) == (3, 1, "stop", "hi")
    assert read_completion(json.dumps(body).encode(), want_text=False).text is None


def test_read_completion_of_garbage_is_empty() -> None:
    """An undecodable answer gives empty facts rather than an error."""
    facts = read_completion(b"<html>oops</html>", want_text=True)
    assert (facts.input_tokens, facts.output_tokens, facts.finish_reason) == (0, 0, None)


def test_parse_chat_keeps_unknown_fields() -> None:
    """parse_chat exposes model/stream/messages and keeps the whole body, unknown fields included."""
    call = parse_chat(b'{"model":"a","messages":[{"role":"user","content":"x"}],"stream":true,"zzz":1}')
    assert (call.model, call.stream) == ("a", True)
    assert call.body["zzz"] == 1


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'{"messages":[{"role":"user"}]}', "missing_model"),
        (b'{"model":"a","messages":[]}', "missing_messages"),
        (b'{"model":"a","messages":["hi"]}', "invalid_message"),
        (b'{"model":"a","messages":[{"role":"user"}],"stream":"yes"}', "invalid_stream"),
    ],
)
def test_parse_chat_rejects_bad_bodies_with_a_code(raw: bytes, code: str) -> None:
    """Every malformed body is a BadRequest (400) whose code names the problem."""
    with pytest.raises(BadRequest) as info:
        parse_chat(raw)
    assert info.value.code == code
    assert info.value.status == 400


def test_unit_id_from_body_user_or_metadata() -> None:
    """The unit id comes from 'user', else metadata.user_id, else metadata.user."""
    base = '"model":"a","messages":[{"role":"user"}]'
    assert parse_chat(("{" + base + ',"user":"u1"}').encode()).user == "u1"
    assert parse_chat(("{" + base + ',"metadata":{"user_id":"u2"}}').encode()).user == "u2"
    assert parse_chat(("{" + base + ',"metadata":{"user":"u3"}}').encode()).user == "u3"
    assert parse_chat(("{" + base + "}").encode()).user is None


def test_null_token_counts_cost_nothing_else() -> None:
    """An answer whose usage counts are null still yields its finish reason and text (tokens 0)."""
    body = (
        b'{"choices":[{"index":0,"finish_reason":"stop","message":{"content":"hi"}}],'
        b'"usage":{"prompt_tokens":null,"completion_tokens":null}}'
    )
    facts = read_completion(body, want_text=True)
    assert (facts.finish_reason, facts.text, facts.input_tokens, facts.output_tokens) == ("stop", "hi", 0, 0)


def test_a_text_chunk_with_null_text_adds_nothing() -> None:
    """Chunk-list content with ``"text": null`` reads as empty, not as the word None."""
    assert content_text([{"type": "text", "text": None}, {"type": "text", "text": "ok"}]) == "ok"
