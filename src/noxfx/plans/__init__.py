"""The trading-plan generator: analysis + probabilities + setup history + risk -> TradingPlan."""
