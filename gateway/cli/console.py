"""The rich console every CLI command prints its tables and messages with.

Off a terminal (a CI log, a pipe, ``| less``) rich assumes 80 columns and cuts agent names and
confidence intervals with an ellipsis; there the console is wide instead, so a table keeps whole
cells and only takes the width it needs. ``COLUMNS``, when set, still decides.
"""

from __future__ import annotations

import os

from rich.console import Console

PIPE_WIDTH = 200
"""Columns assumed off a terminal: wide enough for the widest table (``ab show``, ``flags history``)."""


def cli_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): the terminal's width, or ``PIPE_WIDTH`` when not a terminal."""
    out = Console(stderr=stderr)
    if out.is_terminal or os.environ.get("COLUMNS"):
        return out
    return Console(stderr=stderr, width=PIPE_WIDTH)
