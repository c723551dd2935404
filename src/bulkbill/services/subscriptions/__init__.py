"""Subscriptions and test clocks."""
