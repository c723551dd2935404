"""Subscriptions: periods, what falls due, the draft hour."""
