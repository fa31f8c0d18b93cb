"""The `scoring validate` command: a table by default, exactly one JSON object with --json."""

import json
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.scoring_cmd import app

FIXTURE = Path(__file__).parent / "fixtures" / "covering_pairs.jsonl"
RUNNER = CliRunner()


def test_json_output_is_one_object_by_file_name() -> None:
    """--json prints one object keyed by file basename with each scorer's agreement."""
    result = RUNNER.invoke(app, ["validate", str(FIXTURE), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    scores = payload["covering_pairs.jsonl"]
    assert scores["overall"] == 1.0
    assert set(scores) == {"quality", "relevance", "format", "specificity", "overall", "length"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_table_output() -> None:
    """Without --json the command prints the agreement table."""
    result = RUNNER.invoke(app, ["validate", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert "overall" in result.stdout


def test_missing_file_fails_clearly(tmp_path: Path) -> None:
    """A missing file exits non-zero with the file named."""
    result = RUNNER.invoke(app, ["validate", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output
