"""The profiler's summary of py-spy's collapsed stacks: shares inclusive, own, and own by source file."""

from __future__ import annotations

from pathlib import Path

from benchmarks.profile import summarise

COLLAPSED = """\
run (asyncio/runners.py:118);handle (gateway/proxy.py:106);parse_chat (gateway/wire.py:49) 25
run (asyncio/runners.py:118);handle (gateway/proxy.py:110) 20
run (asyncio/runners.py:118);send (uvicorn/protocols/http/httptools_impl.py:522) 40
cut short (gateway/proxy.py:200) 15
"""


def _section(summary: str, title: str) -> list[str]:
    lines = summary.split("\n\n")
    (block,) = [b for b in lines if b.startswith(title)]
    return block.splitlines()[1:]


def test_shares_are_of_all_samples_inclusive_own_and_by_file(tmp_path: Path) -> None:
    """A frame's line numbers are dropped; own samples of one file add up, whichever function they are in."""
    collapsed = tmp_path / "stacks.txt"
    collapsed.write_text(COLLAPSED)
    summary = summarise(collapsed, top=10)
    assert summary.startswith("100 samples")
    assert " 85.0%  run (asyncio/runners.py)" in _section(summary, "inclusive:")
    assert " 40.0%  send (uvicorn/protocols/http/httptools_impl.py)" in _section(summary, "own:")
    assert _section(summary, "own, by file:") == [
        " 40.0%  uvicorn/protocols/http/httptools_impl.py",
        " 35.0%  gateway/proxy.py",
        " 25.0%  gateway/wire.py",
    ]
