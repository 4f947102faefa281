"""One router per resource, combined in `ledger.api.app`."""
