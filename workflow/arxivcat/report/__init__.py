"""Report stages: model cards, plots and the summary across experiments."""
