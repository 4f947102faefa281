"""The certification domain: aggregates, events and policy rules. No I/O."""
