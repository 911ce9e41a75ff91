"""Top-level commands: ``instruments``, ``timeframes`` and ``run`` (the main job)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from noxfx.cli._output import emit_json, print_table

if TYPE_CHECKING:
    from noxfx.data.store import BarStore
    from noxfx.plans.model import TradingPlan


def register(app: typer.Typer) -> None:
    """Attach the top-level commands to the root app."""
    app.command("instruments")(instruments)
    app.command("timeframes")(timeframes)
    app.command("run")(run)


def instruments(
    kind: str | None = typer.Option(
        None, "--kind", help="Only one kind: major, cross, exotic or metal."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The instrument catalogue: pip size, precision, contract size, typical spread, sessions."""
    from noxfx.errors import InvalidInput
    from noxfx.instruments import list_instruments

    if kind is not None and kind not in ("major", "cross", "exotic", "metal"):
        raise InvalidInput(f"Unknown kind {kind!r}: use major, cross, exotic or metal.")
    items = [i.as_dict() for i in list_instruments(kind)]
    if json_out:
        emit_json(items)
        return
    cols = ["symbol", "kind", "pip_size", "precision", "contract_size", "typical_spread_pips",
            "sessions", "description"]  # fmt: skip
    print_table(items, title=f"{len(items)} instruments", columns=cols)


def timeframes(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Supported timeframes and how NOX aligns them (FX day closes 17:00 New York)."""
    from noxfx.timeframes import TIMEFRAMES

    notes = {
        "4h": "cut from the FX day: 17:00, 21:00, 01:00 ... New York",
        "1d": "17:00 to 17:00 New York (follows US daylight saving)",
        "1w": "Sunday 17:00 to Friday 17:00 New York",
    }
    rows = [
        {"timeframe": tf.name, "seconds": tf.seconds, "alignment": notes.get(tf.name, "UTC clock")}
        for tf in TIMEFRAMES.values()
    ]
    if json_out:
        emit_json(rows)
    else:
        print_table(rows, title="Timeframes (bars labelled by UTC open time)")


def run(
    symbol_arg: str | None = typer.Argument(
        None, help="Pair to plan (default EURUSD).", show_default=False
    ),
    symbol_opt: str | None = typer.Option(None, "--symbol", "-s", help="Alias of the pair."),
    timeframe: str = typer.Option("1h", "--timeframe", "-t", help="Timeframe to plan."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    serve: bool = typer.Option(
        True, "--serve/--no-serve", help="Then start the API on 127.0.0.1 and print its URLs."
    ),
    port: int = typer.Option(8000, "--port", "-p", help="API port when serving."),
) -> None:
    """NOX's main job on the embedded defaults: load the bundled sample if needed, print the
    pair's trading plan (analysis, probability, history, sizing), then serve the API."""
    from noxfx.cli._args import one_symbol
    from noxfx.data.sample import ensure_bootstrapped
    from noxfx.data.store import BarStore
    from noxfx.ml.registry import ModelRegistry
    from noxfx.plans.generator import PlanRequest
    from noxfx.workflows import plan_for

    symbol = one_symbol(symbol_arg or (None if symbol_opt else "EURUSD"), symbol_opt,
                        "noxfx run EURUSD")  # fmt: skip
    store = BarStore.default()
    loaded = ensure_bootstrapped(store)
    plan = plan_for(store, PlanRequest(symbol=symbol, timeframe=timeframe),
                    ModelRegistry.default())  # fmt: skip
    if json_out:
        emit_json({"bootstrapped": loaded, "plan": plan.as_dict()})
    else:
        _print_run(store, loaded, plan)
    if serve:
        from noxfx.cli.server import serve as serve_api

        serve_api(host="127.0.0.1", port=port, workers=None, dev=False)


def _print_run(store: BarStore, loaded: list[dict[str, Any]], plan: TradingPlan) -> None:
    from noxfx.cli._output import stderr_console
    from noxfx.cli.data import print_dataset_table
    from noxfx.cli.plans import print_plan

    if loaded:
        stderr_console().print(f"[green]loaded the bundled sample: {len(loaded)} datasets[/]")
        print_dataset_table(store.datasets(), f"Bar store {store.root}")
    print_plan(plan.as_dict())
