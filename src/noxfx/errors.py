"""One exception tree for NOX.

Every error a person can cause or fix is a :class:`NoxError` carrying a message they can act on.
The CLI (``noxfx.cli``) and, later, the API map this tree to exit codes / problem+json in exactly
one place each; library code raises these and never prints.
"""

from __future__ import annotations


class NoxError(Exception):
    """Base of all NOX domain errors. ``exit_code`` is what the CLI exits with."""

    exit_code: int = 1
    #: short machine-readable kind, used as the problem+json ``type`` suffix
    kind: str = "nox-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnknownInstrument(NoxError, KeyError):
    """A symbol that is not in the instrument catalogue."""

    exit_code = 2
    kind = "unknown-instrument"

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class UnknownTimeframe(NoxError, ValueError):
    """A timeframe string NOX does not know (valid: 1m 5m 15m 30m 1h 4h 1d 1w)."""

    exit_code = 2
    kind = "unknown-timeframe"


class InvalidInput(NoxError, ValueError):
    """A parameter or argument that is malformed (bad option value, bad date, ...)."""

    exit_code = 2
    kind = "invalid-input"


class InvalidBars(NoxError, ValueError):
    """Bars that fail validation (OHLC inconsistency, bad prices, duplicates, ...).

    ``report`` holds the full :class:`noxfx.data.validation.ValidationReport` when there is one.
    """

    exit_code = 3
    kind = "invalid-bars"

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class UnsupportedFormat(NoxError, ValueError):
    """A file whose format cannot be recognised or parsed."""

    exit_code = 3
    kind = "unsupported-format"


class InsufficientData(NoxError, LookupError):
    """Not enough (or no) stored bars for what was asked."""

    exit_code = 4
    kind = "insufficient-data"


class StoreError(NoxError, OSError):
    """The bar store could not be read or written (permissions, corrupt file, lock timeout)."""

    exit_code = 5
    kind = "store-error"


__all__ = [
    "InsufficientData",
    "InvalidBars",
    "InvalidInput",
    "NoxError",
    "StoreError",
    "UnknownInstrument",
    "UnknownTimeframe",
    "UnsupportedFormat",
]
