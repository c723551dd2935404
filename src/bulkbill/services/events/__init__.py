"""Events and webhooks: the outbox written with each change, webhook endpoints, and their deliveries."""
