"""Zuora orders, order line items, fulfillments and fulfillment items."""
