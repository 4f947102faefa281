"""Verifiable certificates: W3C Data Integrity proofs, Multikey, Bitstring Status Lists."""
