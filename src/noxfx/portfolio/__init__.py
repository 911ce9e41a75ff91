"""Paper trading and the plan ledger: paper accounts, orders, positions, margin and performance
filled with the backtester's own order steps; the ledger resolver (every plan settled from later
bars) and its reliability statistics. Pure computation: no I/O, no database, no Flask."""
