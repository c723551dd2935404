"""Zuora invoices, credit memos and Object Query."""
