"""Stripe /v1/events and /v1/webhook_endpoints, and the renderers that give events their `data.object`."""
