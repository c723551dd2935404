"""bulkbill: a self-hostable billing engine with Stripe- and Zuora-compatible bulk line APIs."""

__version__ = "0.1.0"
