"""Placeholder: the indicators CLI (list, compute) replaces this file."""

from __future__ import annotations

import typer

app = typer.Typer(help="Technical indicators: list and compute.", no_args_is_help=True)
