"""Zuora bill runs."""
