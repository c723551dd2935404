"""Stripe customers."""
