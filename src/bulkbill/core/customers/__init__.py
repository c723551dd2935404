"""Customers and Zuora accounts: payment terms, bill cycle days, org scope."""
