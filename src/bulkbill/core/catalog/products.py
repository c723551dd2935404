"""Rules on what a product says about itself (not what it bills)."""

from __future__ import annotations

# Stripe's statement descriptors: at most 22 characters, at least one letter, none of these.
MAX_STATEMENT_DESCRIPTOR = 22
FORBIDDEN_IN_DESCRIPTOR = "<>\\\"'*"


def statement_descriptor_problem(text: str) -> str | None:
    """A statement descriptor is 22 characters at most, has a letter, and holds none of < > \\ " ' *."""
    if len(text) > MAX_STATEMENT_DESCRIPTOR:
        return f"The statement descriptor must be at most {MAX_STATEMENT_DESCRIPTOR} characters."
    if not any(c.isalpha() for c in text):
        return "The statement descriptor must contain at least one letter."
    bad = sorted({c for c in text if c in FORBIDDEN_IN_DESCRIPTOR})
    if bad:
        return f"The statement descriptor cannot contain {' '.join(bad)}."
    return None
