"""Invoices and their lines: lifecycle, billable items, bulk-line plans, totals, Zuora-style edits."""
