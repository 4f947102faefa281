"""The HTTP API (FastAPI): thin routes over the service layer, the queries and the log."""
