"""Invoices, invoice items and bulk line edits, with their totals and read views."""
