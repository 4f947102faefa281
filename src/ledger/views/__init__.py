"""Keeping the read models of `projections/` current, rebuilding them, and reading them."""
