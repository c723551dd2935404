"""Stripe subscriptions, subscription items and test clocks."""
