"""API routers, one per resource (customers, models, runs, keys, health)."""
