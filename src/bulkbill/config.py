"""One place for every setting; read from the environment (prefix BULKBILL_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings. Every limit a spec calls 'subject to change' lives here."""

    model_config = SettingsConfigDict(env_prefix="BULKBILL_", extra="ignore")

    database_url: str = "sqlite:///bulkbill.db"
    # Stripe: "You can update a maximum of 50 line items in one API call" (seed 002, Decision 5).
    stripe_max_lines_per_call: int = 50
    # Stripe's long-standing cap on invoice items per invoice.
    stripe_max_lines_per_invoice: int = 250
    # How long an Idempotency-Key is kept (Stripe: at least 24 h).
    idempotency_ttl_seconds: int = 24 * 3600
    # An in-flight key older than this is treated as abandoned (its request crashed).
    idempotency_in_flight_timeout_seconds: int = 60
    # Largest request body accepted, in bytes (after decompression for Zuora).
    max_body_bytes: int = 1_048_576
    sqlite_busy_timeout_ms: int = 10_000
