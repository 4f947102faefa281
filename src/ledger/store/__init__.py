"""Storage: the eventsourcing application, the signing mapper, chained event store, backends."""
