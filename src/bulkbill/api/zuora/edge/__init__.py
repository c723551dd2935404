"""The Zuora dialect's edge: request handling, OAuth, validation, errors, money on the wire, OpenAPI."""
