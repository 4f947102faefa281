"""Read models of the ledger."""
