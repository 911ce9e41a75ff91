"""Tables fit the terminal: at 80 columns a wide table folds into key/value rows, and no file
name or symbol is cut short (:func:`noxfx.cli._output.print_table`)."""

from __future__ import annotations

import json

import pytest

from noxfx.cli._output import print_table
from noxfx.data.sample import sample_dir


def _manifest_rows() -> list[dict[str, object]]:
    """The bundled sample's manifest: real symbols, timeframes, file names and sources."""
    return list(json.loads((sample_dir() / "manifest.json").read_text())["datasets"])


@pytest.mark.parametrize("columns", [60, 80])
def test_wide_table_folds_into_key_value_rows(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    rows = _manifest_rows()
    print_table(rows, title="Bundled sample")
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "…" not in out
    for row in rows:
        for key in ("symbol", "timeframe", "file", "source"):
            assert str(row[key]) in out  # whole, on one line
    assert "one block per row" in out


def test_a_table_that_fits_stays_a_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{k: r[k] for k in ("symbol", "timeframe", "file")} for r in _manifest_rows()]
    monkeypatch.setenv("COLUMNS", "80")
    print_table(rows)
    out = capsys.readouterr().out
    assert "one block per row" not in out
    assert "symbol" in out.splitlines()[1]  # the header row
    for row in rows:
        assert str(row["file"]) in out


def test_floats_are_rounded_in_tables_prices_at_their_precision(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    print_table(
        [{"symbol": "EURUSD", "close": 1.1, "brier_skill": -0.0023755232}],
        sig=4,
        price_columns={"close": 5},
    )
    out = capsys.readouterr().out
    assert "1.10000" in out and "-0.002376" in out and "0.0023755232" not in out


def test_a_table_of_sentences_wraps_at_spaces_instead_of_folding(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"file": r["file"], "note": r["note"]} for r in _manifest_rows()]
    assert max(len(str(r["file"])) + len(str(r["note"])) for r in rows) > 80  # too wide as is
    monkeypatch.setenv("COLUMNS", "80")
    print_table(rows)
    out = capsys.readouterr().out
    assert "one block per row" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    for row in rows:
        assert str(row["file"]) in out
        for word in str(row["note"]).split():
            assert word in out  # wrapped between words, never inside one
