"""`ledger publish DIR`: the log as C2SP tlog-tiles and the public documents as static files."""
