"""Auditor bundles: export the signed history, and verify it with nothing else."""
