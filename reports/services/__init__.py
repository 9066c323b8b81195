"""Writes of the reports app: the weekly aggregation, targets and recomputation runs."""
