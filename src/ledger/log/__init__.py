"""The transparency log over the ledger's records: sequencing, checkpoints, proofs."""
