"""A/B bookkeeping and analysis: per agent and variant score moments, comparisons, verdicts."""
