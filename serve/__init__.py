"""Staff service: HTTP API and console."""
