"""Billing: runBilling, set-based document writing, bill runs, gapless numbers."""
