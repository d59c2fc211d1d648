"""The HTTP API under /wan/v1: routes, request bodies and the guard (auth, body size, errors)."""
