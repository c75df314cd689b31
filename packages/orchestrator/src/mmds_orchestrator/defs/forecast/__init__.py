"""The forecast stage: next month's demand per area and group, and its backtest, in gold."""
