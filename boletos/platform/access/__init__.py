"""Who may call what: credentials (API keys, JWTs), roles, TLS, and the interceptor that
checks every call against one table (roles.py)."""
