"""Orders, order line items, fulfillments and fulfillment items."""
