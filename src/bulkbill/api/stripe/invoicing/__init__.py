"""Stripe invoices, invoice items and the bulk line endpoints."""
