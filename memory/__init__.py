"""SQL-backed per-user preference memory: infer, store, evolve and serve each user's preferences."""
