"""Risk engine: pip values in the account currency, position sizing, exposure, VaR/CVaR and
drawdown protection. Pure computation: prices and balances in, typed results out."""
