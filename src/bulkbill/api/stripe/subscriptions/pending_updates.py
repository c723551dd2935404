"""`payment_behavior=pending_if_incomplete`: what a pending update may carry (Stripe's pending updates reference).

Stripe applies such an update at once when the invoice it makes is paid, and keeps it pending (`pending_update`)
while that payment fails. bulkbill moves no money, so no payment fails: every update applies at once, as Stripe's
does when its invoice is paid (`pending_update` stays null). What remains of the rule is its parameters: with
pending_if_incomplete Stripe takes only those that control prorations or make invoices, and so does bulkbill (a 400
naming the first other parameter, nothing changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulkbill.core.errors import ErrorCode, FieldError, InvalidInput, Path

PENDING_IF_INCOMPLETE = "pending_if_incomplete"
# Subscription update: the attributes a pending update supports, and those of each `items[]` entry.
_UPDATE = frozenset(
    {
        "expand",
        "payment_behavior",
        "proration_behavior",
        "proration_date",
        "billing_cycle_anchor",
        "items",
        "trial_end",
        "trial_from_plan",
        "add_invoice_items",
    }
)
_UPDATE_ITEM = frozenset({"id", "price", "quantity"})
# Subscription item create and update (`subscription` names the subscription a new item joins).
_ITEM = frozenset({"expand", "payment_behavior", "proration_behavior", "proration_date", "price", "quantity"})
_ITEM_CREATE = _ITEM | {"subscription"}


def _refuse(path: Path) -> None:
    name = path[0] if len(path) == 1 else f"{path[0]}[{path[1]}][{path[2]}]"
    message = (
        f"{name} cannot be changed with payment_behavior=pending_if_incomplete: a pending update takes only "
        "the parameters that control prorations or make invoices (see Stripe's pending updates reference)."
    )
    raise InvalidInput([FieldError(path, ErrorCode.PARAMETER_INVALID, message)])


def check_not_pending_on_create(params: Mapping[str, Any]) -> None:
    """A new subscription has nothing to leave pending: Stripe takes pending_if_incomplete on updates only."""
    if params.get("payment_behavior") == PENDING_IF_INCOMPLETE:
        message = "payment_behavior=pending_if_incomplete can only be used when updating a subscription."
        raise InvalidInput([FieldError(("payment_behavior",), ErrorCode.PARAMETER_INVALID, message)])


def check_pending_update(params: Mapping[str, Any]) -> None:
    """A subscription update with pending_if_incomplete carries only what a pending update supports."""
    if params.get("payment_behavior") != PENDING_IF_INCOMPLETE:
        return
    for name in params:
        if name not in _UPDATE:
            _refuse((name,))
    for i, item in enumerate(params.get("items") or ()):
        for name in item:
            if name not in _UPDATE_ITEM:
                _refuse(("items", i, name))


def check_pending_item_update(params: Mapping[str, Any], *, create: bool) -> None:
    """A subscription item created or updated with pending_if_incomplete carries only price, quantity and
    the proration parameters."""
    if params.get("payment_behavior") != PENDING_IF_INCOMPLETE:
        return
    allowed = _ITEM_CREATE if create else _ITEM
    for name in params:
        if name not in allowed:
            _refuse((name,))
