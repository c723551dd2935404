"""Zuora accounts and accounting periods."""
