"""Signal receivers: how lower apps reach enrollments without importing it. Each only calls a service."""
