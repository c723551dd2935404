"""Accounting periods."""
