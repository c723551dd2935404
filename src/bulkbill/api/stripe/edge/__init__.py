"""The Stripe dialect's edge: request handling, form decoding, parameter specs, errors, rendering helpers."""
