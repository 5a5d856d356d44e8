"""Delivery: the workflow, its runs and events, and the human controls — everything after the
customer accepts a quote (see docs/architecture.md)."""
