"""One place for every setting; read from the environment (prefix BULKBILL_)."""

from __future__ import annotations

from typing import Literal

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
    # Largest total size of a request's headers, in bytes (431 past it; uvicorn's httptools has no limit).
    max_header_bytes: int = 16_384
    sqlite_busy_timeout_ms: int = 10_000
    # Bill runs (README "Bill runs and workers"). With bill_run_workers on (PostgreSQL, `bulkbill
    # worker` processes running), a run with more due lines than bill_run_inline_max_lines is
    # queued for the workers (POST answers Pending); every other run executes inside the request.
    bill_run_workers: bool = False
    bill_run_inline_max_lines: int = 20_000
    # A chunk (one transaction) holds at most this many lines and accounts; an account is never split.
    bill_run_chunk_lines: int = 20_000
    bill_run_chunk_accounts: int = 5_000
    # A chunk that failed this many times is given up (the run ends in Error; `bulkbill bill-run retry`).
    bill_run_chunk_attempts: int = 3
    # How often an idle worker looks for chunks, in seconds.
    worker_poll_seconds: float = 0.5
    # Requests allowed per API key (Stripe secret key, Zuora OAuth token) in a moving window, as a
    # `limits` rate string ("100/second", "1000/minute", "10/second;500/minute"); "" or "off" disables it.
    rate_limit: str = "100/second"
    # Where the windows are kept: this process's memory, or a shared `limits` storage URI (redis://...).
    rate_limit_storage_uri: str = "memory://"
    # How `bulkbill serve` writes its logs to stderr: "plain" lines, or one JSON object per line.
    log_format: Literal["plain", "json"] = "plain"
    # The least severe log level written by `bulkbill serve` (debug, info, warning, error); info shows every request.
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
