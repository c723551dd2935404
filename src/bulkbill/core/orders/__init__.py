"""Orders: order line items and their state machine, fulfillments."""
