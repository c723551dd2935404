"""Which events exist, which object each one carries, and which endpoints want it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class EventObject(StrEnum):
    """The kinds of object an event carries (the `object` its `data.object` renders as)."""

    CUSTOMER = "customer"
    INVOICE = "invoice"
    INVOICEITEM = "invoiceitem"
    PRODUCT = "product"
    PRICE = "price"
    COUPON = "coupon"
    TAX_RATE = "tax_rate"
    SUBSCRIPTION = "subscription"
    SUBSCRIPTION_SCHEDULE = "subscription_schedule"
    TEST_CLOCK = "test_helpers.test_clock"
    CREDIT_NOTE = "credit_note"


class EventType(StrEnum):
    """Every event type bulkbill emits (Stripe's names; `credit_note.*` carries a Zuora credit memo)."""

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_DELETED = "customer.deleted"
    INVOICE_CREATED = "invoice.created"
    INVOICE_UPDATED = "invoice.updated"
    INVOICE_DELETED = "invoice.deleted"
    INVOICE_FINALIZED = "invoice.finalized"
    INVOICE_PAID = "invoice.paid"
    INVOICE_VOIDED = "invoice.voided"
    INVOICE_MARKED_UNCOLLECTIBLE = "invoice.marked_uncollectible"
    INVOICE_SENT = "invoice.sent"
    INVOICEITEM_CREATED = "invoiceitem.created"
    INVOICEITEM_UPDATED = "invoiceitem.updated"
    INVOICEITEM_DELETED = "invoiceitem.deleted"
    PRODUCT_CREATED = "product.created"
    PRODUCT_UPDATED = "product.updated"
    PRODUCT_DELETED = "product.deleted"
    PRICE_CREATED = "price.created"
    PRICE_UPDATED = "price.updated"
    PRICE_DELETED = "price.deleted"
    COUPON_CREATED = "coupon.created"
    COUPON_UPDATED = "coupon.updated"
    COUPON_DELETED = "coupon.deleted"
    TAX_RATE_CREATED = "tax_rate.created"
    TAX_RATE_UPDATED = "tax_rate.updated"
    SUBSCRIPTION_CREATED = "customer.subscription.created"
    SUBSCRIPTION_UPDATED = "customer.subscription.updated"
    SUBSCRIPTION_DELETED = "customer.subscription.deleted"
    SUBSCRIPTION_RESUMED = "customer.subscription.resumed"
    SUBSCRIPTION_SCHEDULE_CREATED = "subscription_schedule.created"
    SUBSCRIPTION_SCHEDULE_UPDATED = "subscription_schedule.updated"
    SUBSCRIPTION_SCHEDULE_CANCELED = "subscription_schedule.canceled"
    SUBSCRIPTION_SCHEDULE_RELEASED = "subscription_schedule.released"
    SUBSCRIPTION_SCHEDULE_COMPLETED = "subscription_schedule.completed"
    SUBSCRIPTION_PAUSED = "customer.subscription.paused"
    TEST_CLOCK_CREATED = "test_helpers.test_clock.created"
    TEST_CLOCK_ADVANCING = "test_helpers.test_clock.advancing"
    TEST_CLOCK_READY = "test_helpers.test_clock.ready"
    TEST_CLOCK_DELETED = "test_helpers.test_clock.deleted"
    CREDIT_NOTE_CREATED = "credit_note.created"
    CREDIT_NOTE_UPDATED = "credit_note.updated"
    CREDIT_NOTE_VOIDED = "credit_note.voided"

    @property
    def object(self) -> EventObject:
        """The kind of object the event carries: its type without the last part (`customer.subscription`)."""
        # Looked up by the plain value (`_value_`): the outbox asks this of every event at every commit.
        return _OBJECT_OF_TYPE[self._value_]

    @property
    def is_update(self) -> bool:
        """An update carries `previous_attributes`: the changed fields' values before the change."""
        return self._value_.endswith(".updated")

    @property
    def is_creation(self) -> bool:
        """A creation: no `*.updated` of the same object is told beside it in one transaction."""
        return self._value_.endswith(".created")

    @property
    def is_deletion(self) -> bool:
        """A deletion carries the object as it is left, or as it was just before when it is gone."""
        return self._value_.endswith(".deleted")


_OBJECT_OF_PREFIX = {
    "customer": EventObject.CUSTOMER,
    "invoice": EventObject.INVOICE,
    "invoiceitem": EventObject.INVOICEITEM,
    "product": EventObject.PRODUCT,
    "price": EventObject.PRICE,
    "coupon": EventObject.COUPON,
    "tax_rate": EventObject.TAX_RATE,
    "customer.subscription": EventObject.SUBSCRIPTION,
    "subscription_schedule": EventObject.SUBSCRIPTION_SCHEDULE,
    "test_helpers.test_clock": EventObject.TEST_CLOCK,
    "credit_note": EventObject.CREDIT_NOTE,
}

_OBJECT_OF_TYPE: dict[str, EventObject] = {t.value: _OBJECT_OF_PREFIX[t.value.rsplit(".", 1)[0]] for t in EventType}

ALL_EVENTS = "*"


def is_known_selector(selector: str) -> bool:
    """An endpoint's `enabled_events` entry: `*` or the name of an event type."""
    return selector == ALL_EVENTS or selector in _TYPE_NAMES


def wants(enabled_events: Iterable[str], event_type: str) -> bool:
    """An endpoint receives an event when it enabled `*` or that exact type (Stripe)."""
    return any(selector in (ALL_EVENTS, event_type) for selector in enabled_events)


_TYPE_NAMES = frozenset(t.value for t in EventType)
