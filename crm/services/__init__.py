"""Business rules, one module per domain. Services flush, never commit."""
