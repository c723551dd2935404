"""Billing documents a customer reads: a pure view of a finalized invoice or credit memo, and its formatting."""
