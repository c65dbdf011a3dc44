"""Report stages: the card (threshold, card, Hub-ready model folder) and the summary."""
