"""Bars: the Parquet store, file importers, validation and the bundled sample."""
