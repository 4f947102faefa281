"""Event-sourced certification and licensing ledger."""
