"""Zuora billing documents on core invoices: standalone invoices, edits, posting, Object Query."""
