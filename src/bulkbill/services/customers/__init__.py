"""Customers (Zuora accounts) and org scoping."""
