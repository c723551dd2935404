"""What every use case stands on: tenants, credentials, idempotency, the unit of work, paging."""
