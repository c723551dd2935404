"""Billing: what is due, how it groups into documents, and the bill-run state machine."""
