"""An auditor's verifier written from docs/ledger-format.md alone (standard library and
`cryptography`; nothing from the ledger's own code)."""
