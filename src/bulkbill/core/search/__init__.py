"""Search queries: Stripe's query language parsed by a grammar into a typed AST (no SQL here)."""
