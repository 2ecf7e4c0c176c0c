"""Moving response events from the gateway's outbox to the central store."""
