"""The top-level ``genesis-gateway`` command."""

from importlib import metadata

from typer.testing import CliRunner

from gateway.cli import app


def test_version_prints_the_installed_version() -> None:
    """`genesis-gateway --version` prints the package version and exits 0, for bug reports."""
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"genesis-gateway {metadata.version('genesis-gateway')}"


def test_commands_still_run_below_the_root_options() -> None:
    """The root callback leaves subcommands alone: `scoring --help` still lists `validate`."""
    result = CliRunner().invoke(app, ["scoring", "--help"])
    assert result.exit_code == 0, result.output
    assert "validate" in result.output
