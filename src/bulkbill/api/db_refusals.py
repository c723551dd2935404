"""What the database refuses, as the core errors both dialects already answer in their envelopes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from bulkbill.core.errors import Conflict, ErrorCode, FieldError, InvalidInput, Path, Unavailable
from bulkbill.storage.unique_keys import UniqueKey, violated_key

log = logging.getLogger("bulkbill")
# PostgreSQL's answers to contention: serialization_failure, deadlock_detected, lock_not_available.
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# SQLite's: SQLITE_BUSY ("database is locked") and SQLITE_LOCKED ("database table is locked").
_BUSY_SQLITE = ("SQLITE_BUSY", "SQLITE_LOCKED")
# A statement past the database's own limits: PostgreSQL's class 54 (program_limit_exceeded,
# statement_too_complex, ...); SQLite's SQLITE_TOOBIG and its parser's limits. The request is too
# big, not the database down: a 400 the caller cures by sending less, not a 503.
_TOO_LARGE_SQLSTATE_CLASS = "54"
_TOO_LARGE_SQLITE = (
    "Expression tree is too large",
    "too many SQL variables",
    "too many terms",
    "string or blob too big",
)
_TOO_LARGE_MESSAGE = "The request asks for more than one database statement can hold; send it in smaller parts."

# The unique keys a caller chooses the value of: a clash is the caller's (400, with the field), the
# same answer the service's own check gives when no concurrent request got there first. Every other
# key holds values the server makes (numbers, positions, billed sources): a clash there is a race
# that a retry cures, so it stays a 409.
CHOSEN_KEYS: dict[UniqueKey, tuple[Path, str]] = {
    UniqueKey.of("customers", "invoice_prefix"): (("invoice_prefix",), "Another customer uses that invoice prefix."),
    UniqueKey.of("customers", "account_number"): (("accountNumber",), "An account with that number already exists."),
    UniqueKey.of("orders", "order_number"): (("orderNumber",), "An order with that order number already exists."),
    UniqueKey.of("accounting_periods", "name"): (("name",), "An accounting period with that name already exists."),
    UniqueKey.of("products", "id"): (("id",), "Product already exists."),
    UniqueKey.of("coupons", "id"): (("id",), "Coupon already exists."),
    UniqueKey.of("billing_meter_events", "identifier"): (
        ("identifier",),
        "A meter event with that identifier already exists.",
    ),
    UniqueKey.of("entitlement_features", "lookup_key"): (
        ("lookup_key",),
        "A feature with this lookup_key already exists.",
    ),
    UniqueKey.of("product_features", "product_id", "feature_id"): (
        ("entitlement_feature",),
        "This feature is already attached to the product.",
    ),
    UniqueKey.of("order_line_items", "order_id", "item_number"): (
        ("itemNumber",),
        "An order line item with that item number already exists on the order.",
    ),
}
# Every other unique key, named so that a new key is a decision (a test insists each key of the
# schema is in one of the two): ids, numbers and positions the server makes, billed-once sources,
# idempotency keys, credentials. A clash there is a concurrent request; a retry cures it.
SERVER_MADE_KEYS: frozenset[UniqueKey] = frozenset(
    [
        *(
            UniqueKey.of(table, "id")
            for table in (
                "accounting_periods",
                "bill_runs",
                "billing_meters",
                "customer_balance_transactions",
                "customer_tax_ids",
                "customers",
                "discounts",
                "events",
                "document_files",
                "entitlement_features",
                "fulfillment_items",
                "fulfillments",
                "invoice_items",
                "invoices",
                "order_line_items",
                "orders",
                "prices",
                "product_features",
                "promotion_codes",
                "subscription_items",
                "subscription_schedules",
                "subscriptions",
                "tax_rates",
                "tenants",
                "test_clocks",
                "webhook_deliveries",
                "webhook_endpoints",
            )
        ),
        UniqueKey.of("bill_run_accounts", "bill_run_id", "customer_id"),
        UniqueKey.of("bill_run_chunks", "bill_run_id", "chunk_no"),
        UniqueKey.of("bill_run_items", "bill_run_id", "source_type", "source_id"),
        UniqueKey.of("bill_runs", "bill_run_number"),
        # A document's file versions: two first requests at once render the same version (a retry reads it).
        UniqueKey.of("document_files", "invoice_id", "version"),
        UniqueKey.of("document_files", "invoice_id", "content_hash"),
        UniqueKey.of("fulfillments", "fulfillment_number"),
        UniqueKey.of("idempotency_keys", "dialect", "key"),
        UniqueKey.of("invoice_items", "source_type", "source_id"),
        # An item's invoice line: its id and its position on the invoice.
        UniqueKey.of("invoice_items", "line_id"),
        UniqueKey.of("invoice_items", "invoice_id", "position"),
        # Chosen numbers are checked first and the sequences skip taken ones: a clash is a race.
        UniqueKey.of("invoices", "number"),
        UniqueKey.of("oauth_tokens", "token_hash"),
        UniqueKey.of("sequences", "name"),
        UniqueKey.of("tenants", "stripe_key_hash"),
        UniqueKey.of("tenants", "zuora_client_id"),
        # The CLI checks a tenant name first; a clash is two commands at once.
        UniqueKey.of("tenants", "name"),
    ]
)


@contextmanager
def database_refusals() -> Iterator[None]:
    """A clash on a key the caller chose is bad input, on one the server made a concurrent request
    (Conflict); a value the column cannot hold is bad input.

    A database that is busy (a lock held too long, a serialization failure, a deadlock) is a Conflict
    too, which a retry can cure at once; one that cannot answer at all (connection refused or
    closed, failing I/O) is Unavailable (503): nothing was done, retry later.
    """
    try:
        yield
    except IntegrityError as exc:
        raise integrity_refusal(exc) from None
    except OperationalError as exc:
        if is_too_large(exc):
            log.warning("statement too large: %s", exc.orig)
            raise InvalidInput([FieldError((), ErrorCode.TOO_MANY_ITEMS, _TOO_LARGE_MESSAGE)]) from exc
        if is_busy(exc):
            log.warning("database busy: %s", exc.orig)
            raise Conflict("The request conflicted with another request; please retry.") from exc
        log.error("database unavailable: %s", exc.orig)
        raise Unavailable("The service is unavailable; the request was not applied. Please retry later.") from exc
    except DBAPIError as exc:
        raise InvalidInput(
            [FieldError((), ErrorCode.INVALID_VALUE, "A value in the request is out of range.")]
        ) from exc


def is_busy(exc: OperationalError) -> bool:
    """Whether the database refused for contention (retry now) rather than being unreachable or failing."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _BUSY_SQLSTATES
    name = getattr(exc.orig, "sqlite_errorname", None) or ""
    return name.startswith(_BUSY_SQLITE) or str(exc.orig).startswith(("database is locked", "database table is locked"))


def integrity_refusal(exc: IntegrityError) -> InvalidInput | Conflict:
    """The error a refused write is: the caller's (CHOSEN_KEYS) or a race a retry cures."""
    key = violated_key(exc)
    chosen = CHOSEN_KEYS.get(key) if key is not None else None
    if chosen is not None:
        path, message = chosen
        return InvalidInput([FieldError(path, ErrorCode.RESOURCE_ALREADY_EXISTS, message)])
    log.warning("integrity conflict: %s", exc.orig)
    return Conflict("The request conflicted with a concurrent request; please retry.")


def is_too_large(exc: OperationalError) -> bool:
    """Whether the database refused the statement for its size (the request's fault, not an outage)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith(_TOO_LARGE_SQLSTATE_CLASS)
    name = getattr(exc.orig, "sqlite_errorname", None) or ""
    return name == "SQLITE_TOOBIG" or str(exc.orig).startswith(_TOO_LARGE_SQLITE)
