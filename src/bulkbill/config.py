"""One place for every setting; read from the environment (prefix BULKBILL_).

Each setting's meaning is its Field description: docs/configuration.md is generated from them
(`python -m bulkbill.devtools.config_doc > docs/configuration.md`), and a test keeps the two equal.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings. Every limit a spec calls 'subject to change' lives here."""

    model_config = SettingsConfigDict(env_prefix="BULKBILL_", extra="ignore")

    database_url: str = Field(
        "sqlite:///bulkbill.db",
        description="SQLAlchemy URL of the database: `sqlite:///PATH` or `postgresql://USER@HOST/DB` (psycopg 3). "
        "The commands' `--database-url` overrides it.",
    )
    stripe_max_lines_per_call: int = Field(
        50,
        description='Stripe: most lines one `add_lines`/`update_lines`/`remove_lines` call may carry ("You can '
        'update a maximum of 50 line items in one API call").',
    )
    stripe_max_lines_per_invoice: int = Field(
        250, description="Stripe: most invoice items one invoice may hold (Stripe's long-standing cap)."
    )
    idempotency_ttl_seconds: int = Field(
        24 * 3600, description="Seconds an `Idempotency-Key` and its stored response are kept (Stripe: at least 24 h)."
    )
    idempotency_in_flight_timeout_seconds: int = Field(
        60,
        description="Seconds after which a key still marked in flight is taken to be abandoned (its request "
        "crashed) and may be claimed again.",
    )
    idempotency_prune_seconds: float = Field(
        600,
        description="Seconds between the sweeps that forget keys older than `BULKBILL_IDEMPOTENCY_TTL_SECONDS` "
        "(`bulkbill serve` and `bulkbill worker` run them, one DELETE each); 0 turns them off.",
    )
    max_body_bytes: int = Field(
        1_048_576,
        description="Largest request body accepted, in bytes (after decompression for Zuora); larger ones are "
        "answered 413.",
    )
    max_header_bytes: int = Field(
        16_384,
        description="Largest total size of a request's headers, in bytes; larger ones are answered 431 "
        "(uvicorn's httptools has no limit of its own).",
    )
    sqlite_busy_timeout_ms: int = Field(
        10_000,
        description="SQLite only: milliseconds a write transaction waits for its turn (behind the writers queued "
        "before it in this process, then for another process's write lock) before failing.",
    )
    sqlite_writer_queue: bool = Field(
        True,
        description="SQLite only: a process's write transactions wait their turn in arrival order before taking "
        "the database lock. Off: they poll for the lock (SQLite's busy handler) and the unlucky ones wait "
        "longest; kept to measure the difference (benchmarks/concurrency.py).",
    )
    request_threads: int = Field(
        0,
        ge=0,
        description="Requests one serving process works on at once; the others wait their turn in arrival order. "
        "0: 2 on SQLite (one writer works at a time, and more threads only take Python's interpreter lock from "
        "it: docs/performance.md, \"Request threads on SQLite\"), 40 on PostgreSQL (anyio's default: threads "
        "waiting for the database server let others run).",
    )
    bill_run_workers: bool = Field(
        False,
        description="PostgreSQL only, with `bulkbill worker` processes running: a bill run with more due lines "
        "than `BULKBILL_BILL_RUN_INLINE_MAX_LINES` is queued for the workers (the request answers `Pending`). "
        "Off: every run executes inside its request.",
    )
    bill_run_inline_max_lines: int = Field(
        20_000,
        description="With `BULKBILL_BILL_RUN_WORKERS` on: the most due lines a bill run may have to still "
        "execute inside its request.",
    )
    bill_run_chunk_lines: int = Field(
        20_000,
        description="Most lines in one bill-run chunk (one transaction); an account is never split across chunks.",
    )
    bill_run_chunk_accounts: int = Field(5_000, description="Most accounts in one bill-run chunk.")
    bill_run_chunk_attempts: int = Field(
        3,
        description="Attempts before a failing chunk is given up; the run then ends in `Error` "
        "(`bulkbill bill-run retry` resumes it).",
    )
    worker_poll_seconds: float = Field(
        0.5, description="Seconds between an idle worker's looks for chunks (they also wake on LISTEN/NOTIFY)."
    )
    rate_limit: str = Field(
        "100/second",
        description="Requests allowed per API key (Stripe secret key, Zuora OAuth token) in a moving window, as "
        'a `limits` rate string ("100/second", "1000/minute", "10/second;500/minute"); "" or "off" disables it.',
    )
    rate_limit_storage_uri: str = Field(
        "memory://",
        description="Where the rate-limit windows are kept: this process's memory, or a shared `limits` storage "
        "URI (`redis://…`) for several processes.",
    )
    serve_workers: int | None = Field(
        None,
        description="Processes `bulkbill serve` runs on its one listening socket (`--workers` overrides it); "
        "unset: one per core on PostgreSQL, one on SQLite. Several processes on SQLite are allowed but meet "
        "only at the database lock: a process's writers queue in order, those of different processes do not. "
        "Each process has its own rate-limit windows unless `BULKBILL_RATE_LIMIT_STORAGE_URI` is shared.",
    )
    public_url: str = Field(
        "",
        description="The address customers reach this server at (`https://billing.example.com`): the start of "
        "the hosted invoice pages and PDF links (Stripe `hosted_invoice_url`, `invoice_pdf`). Empty: the host "
        "each request was sent to.",
    )
    log_format: Literal["plain", "json"] = Field(
        "plain",
        description='How `bulkbill serve` writes its logs to stderr: "plain" lines, or one JSON object per line.',
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        "info",
        description="The least severe log level `bulkbill serve` writes (debug, info, warning, error, critical); "
        "info shows every request.",
    )
    events_enabled: bool = Field(
        True,
        description="Whether changes write events (GET /v1/events) and so webhooks; off, nothing is written or sent "
        "(for a benchmark's baseline, or a deployment that wants neither).",
    )
    events_retention_seconds: int = Field(
        30 * 24 * 3600,
        description="Seconds an event (and its delivery log) is kept; `bulkbill serve` and `bulkbill worker` prune "
        "older ones at each idempotency sweep (Stripe keeps events 30 days).",
    )
    webhook_allow_private_urls: bool = Field(
        True,
        description="Whether webhooks may be delivered to URLs resolving to loopback, private, link-local or other "
        "non-public addresses (checked at each delivery, on the resolved address; redirects are never followed). "
        "On for local development; `bulkbill serve --production` turns it off (server-side request forgery).",
    )
    webhook_retry_first_delay_seconds: float = Field(
        60, description="Seconds before a failed webhook delivery is tried again; each later retry waits twice as long."
    )
    webhook_retry_max_delay_seconds: float = Field(
        6 * 3600, description="Longest wait between two attempts of one webhook delivery, in seconds."
    )
    webhook_retry_for_seconds: float = Field(
        3 * 24 * 3600,
        description="Seconds after its first attempt a failing webhook delivery is given up (Stripe: 3 days).",
    )
    webhook_disable_after_failures: int = Field(
        100,
        description="Failed attempts in a row (no success between) after which an endpoint is disabled; 0: never. "
        "Re-enable it with `POST /v1/webhook_endpoints/{id}` `disabled=false`: its pending deliveries resume.",
    )
    webhook_timeout_seconds: float = Field(10, description="Seconds a webhook receiver has to answer one delivery.")
    webhook_concurrency: int = Field(
        8, description="Deliveries one sender has in flight at once (and connections kept)."
    )
    webhook_concurrency_per_endpoint: int = Field(
        4, description="Of those, most deliveries in flight to one endpoint at once (each on a kept-alive connection)."
    )
    webhook_batch_size: int = Field(200, description="Most deliveries a sender claims at once.")
    webhook_yield_seconds: float = Field(
        0.05,
        description="`bulkbill serve`'s sender waits for a moment without API calls in flight before each delivery, "
        "at most this long (0: never waits): calls come before the deliveries they cause.",
    )
    webhook_lease_seconds: float = Field(
        60,
        description="Seconds a claimed delivery is reserved for its sender; one that died mid-send (its claim "
        "unrecorded) is claimed again after it.",
    )
    webhook_poll_seconds: float = Field(
        0.5, description="Seconds between an idle sender's looks for due deliveries (a commit in-process wakes it)."
    )
    webhooks_in_serve: bool = Field(
        True, description="Whether `bulkbill serve` delivers webhooks itself, in a background thread."
    )
