"""One subscription item created, changed or deleted on its own (Stripe's /v1/subscription_items).

Each is the subscription update with one `items[]` entry (update_subscription), so the rules, the prorations
and the events (customer.subscription.updated, invoiceitem.created for each proration) are the update's;
only the error paths lose their `items[0]` prefix, since the item's parameters are top-level here.
"""

from __future__ import annotations

from dataclasses import replace

from bulkbill.core.errors import FieldError, InvalidInput, RuleViolation
from bulkbill.core.subscriptions.rules import ItemChange
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.subscriptions import (
    SubscriptionFields,
    get_item,
    get_subscription,
    items_of,
    update_subscription,
)
from bulkbill.storage.tables_subscriptions import SubscriptionItem

LAST_ITEM = (
    "A subscription must keep at least one item: to end it, cancel the subscription (DELETE /v1/subscriptions/{id})."
)


def _apply(uow: UnitOfWork, subscription_id: str, change: ItemChange, fields: SubscriptionFields) -> None:
    """The subscription update with this one item change; its errors named as the item's own parameters."""
    try:
        update_subscription(
            uow, subscription_id, replace(fields, items=(change,), given=frozenset({*fields.given, "items"}))
        )
    except InvalidInput as exc:
        raise InvalidInput([_unprefixed(e) for e in exc.errors]) from None


def _unprefixed(error: FieldError) -> FieldError:
    path = error.path
    if path[:2] == ("items", 0):
        return FieldError(path[2:] or ("id",), error.code, error.message)
    return error


def create_item(
    uow: UnitOfWork, subscription_id: str, change: ItemChange, fields: SubscriptionFields
) -> SubscriptionItem:
    """A new item on the subscription (a new price on it: one price appears once per subscription)."""
    before = {i.id for i in items_of(uow, [get_subscription(uow, subscription_id).id])[subscription_id]}
    _apply(uow, subscription_id, replace(change, id=None, deleted=False), fields)
    (added,) = [i for i in items_of(uow, [subscription_id])[subscription_id] if i.id not in before]
    return added


def update_item(uow: UnitOfWork, item_id: str, change: ItemChange, fields: SubscriptionFields) -> SubscriptionItem:
    """The item changed as `items[][id]` would change it on the subscription update."""
    item = get_item(uow, item_id)
    _apply(uow, item.subscription_id, replace(change, id=item_id, deleted=False), fields)
    return get_item(uow, item_id)


def delete_item(uow: UnitOfWork, item_id: str, fields: SubscriptionFields) -> SubscriptionItem:
    """The item leaves the subscription (its unused time credited unless proration_behavior=none); the last item
    stays: a subscription ends by being canceled, as Stripe refuses deleting its last item."""
    item = get_item(uow, item_id)
    get_subscription(uow, item.subscription_id, for_update=True)  # counted under the update's lock
    if len(items_of(uow, [item.subscription_id])[item.subscription_id]) == 1:
        raise RuleViolation(LAST_ITEM)
    _apply(uow, item.subscription_id, ItemChange(id=item_id, deleted=True), fields)
    return item
