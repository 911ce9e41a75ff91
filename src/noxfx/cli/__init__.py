"""The ``noxfx`` command line. Thin: parse, call the library, render.

Errors: every :class:`~noxfx.errors.NoxError` becomes one line on stderr and its exit code; any
other exception becomes one line too (exit 1), with the traceback only when ``NOX_DEBUG=1``. This
is the one place that mapping lives. Heavy libraries (pandas, pyarrow, numba, TA-Lib) are imported
inside commands, so ``noxfx --help`` answers quickly.
"""

from __future__ import annotations

import os
import sys

import typer

from noxfx import __version__
from noxfx.cli import alerts as alerts_cli
from noxfx.cli import analysis as analysis_cli
from noxfx.cli import backtest as backtest_cli
from noxfx.cli import data as data_cli
from noxfx.cli import formula as formula_cli
from noxfx.cli import indicators as indicators_cli
from noxfx.cli import ml as ml_cli
from noxfx.cli import plans as plans_cli
from noxfx.cli import risk as risk_cli
from noxfx.cli import server as server_cli
from noxfx.cli import stream as stream_cli
from noxfx.cli.misc import register as register_misc
from noxfx.cli.providers import register as register_providers

app = typer.Typer(
    name="noxfx",
    help="NOX: forex market analysis and trading plans, honest about what history shows.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"noxfx {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """NOX: forex market analysis and trading plans."""


register_misc(app)
analysis_cli.register(app)
plans_cli.register(app)
backtest_cli.register(app)
server_cli.register(app)
stream_cli.register(app)
app.add_typer(data_cli.app, name="data")
register_providers(app, data_cli.app)
app.add_typer(indicators_cli.app, name="indicators")
app.add_typer(risk_cli.app, name="risk")
app.add_typer(formula_cli.app, name="formula")
app.add_typer(ml_cli.app, name="ml")
app.add_typer(alerts_cli.app, name="alerts")


def _debug() -> bool:
    return os.environ.get("NOX_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``noxfx`` script.

    Typer runs in standalone mode, so usage errors print Click's usage message and exit 2;
    everything NOX raises reaches the handlers below.
    """
    from noxfx.errors import NoxError

    try:
        app(args=argv, prog_name="noxfx")
    except NoxError as exc:
        if _debug():
            raise
        # one line: multi-line messages (a formula with a caret under the error) keep line one,
        # which already names the column
        sys.stderr.write(f"error: {exc.message.strip().splitlines()[0]}\n")
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _debug():
            raise
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {text} (NOX_DEBUG=1 shows the traceback)\n"
        )
        sys.exit(1)


__all__ = ["app", "main"]
