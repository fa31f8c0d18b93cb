"""The CLI's consoles: off a terminal (CI logs, pipes) tables keep whole names instead of an 80-column cut."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app

FIXTURE = Path(__file__).parents[1] / "scoring" / "fixtures" / "covering_pairs.jsonl"


def test_table_off_a_terminal_keeps_long_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped `scoring validate` over two long-named files prints both names whole, not cut with '…'."""
    monkeypatch.delenv("COLUMNS", raising=False)
    names = ["pandalm_testset_held_out_pairs.jsonl", "llmbar_adversarial_neighbor_pairs.jsonl"]
    for name in names:
        shutil.copy(FIXTURE, tmp_path / name)
    result = CliRunner().invoke(app, ["scoring", "validate", *(str(tmp_path / n) for n in names)])
    assert result.exit_code == 0, result.output
    assert all(name in result.stdout for name in names), result.stdout
    assert "…" not in result.stdout


def test_columns_still_sets_the_width(tmp_path: Path) -> None:
    """An explicit COLUMNS keeps its meaning off a terminal: a narrow one still cuts the long names."""
    name = "pandalm_testset_held_out_pairs.jsonl"
    shutil.copy(FIXTURE, tmp_path / name)
    result = CliRunner().invoke(app, ["scoring", "validate", str(tmp_path / name)], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert name not in result.stdout
