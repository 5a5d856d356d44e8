"""Scoping: intake, requirements and quotes — everything before the customer accepts a quote
(see docs/architecture.md)."""
