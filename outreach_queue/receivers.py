"""Signal receivers: how the connections app's webhook events reach queue rows. Each only calls a service."""
