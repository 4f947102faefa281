"""Canonical encoding, signatures, keys and the Merkle log: no database, no framework."""
