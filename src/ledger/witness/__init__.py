"""A standalone C2SP tlog-witness that cosigns a ledger's checkpoints (`ledger witness serve`)."""
