"""Agreement with humans: answers that cover the prompt must win; ties count half; split is stable."""

from pathlib import Path

import pytest

from scoring.composite import Composite
from scoring.validate import (
    PairRow,
    PairwiseFileError,
    is_held_out,
    load_pairs,
    render,
    validate_files,
    validate_rows,
)

FIXTURE = Path(__file__).parent / "fixtures" / "covering_pairs.jsonl"


def test_covering_answers_win() -> None:
    """On the fixture, where every chosen answer addresses the prompt, the composite always agrees."""
    report = validate_files([FIXTURE])
    (agreement,) = report.files
    assert agreement.pairs == 4
    assert agreement.full("overall") == 1.0


def test_identical_answers_tie_at_half() -> None:
    """A pair with identical answers counts 0.5 for every scorer."""
    row = PairRow(id="t", prompt="Say hi.", chosen="Hello there!", rejected="Hello there!")
    result = validate_rows("tie", [row], Composite())
    assert {s.full for s in result.scorers} == {0.5}


def test_split_rule_is_deterministic() -> None:
    """The held-out split depends only on the id and puts about half the ids in each side."""
    ids = [f"pair-{i}" for i in range(1000)]
    held = [i for i in ids if is_held_out(i)]
    assert held == [i for i in ids if is_held_out(i)]
    assert 400 < len(held) < 600


def test_bad_row_names_line_and_field(tmp_path: Path) -> None:
    """A row without 'chosen' fails with its line number and the field."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "prompt": "p", "rejected": "r"}\n')
    with pytest.raises(PairwiseFileError, match=r"bad.jsonl:1: chosen"):
        load_pairs(bad)


def test_render_has_a_row_per_scorer() -> None:
    """The rich table lists every dimension, overall and the length baseline."""
    table = render(validate_files([FIXTURE]))
    assert table.row_count == 6
