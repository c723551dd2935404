"""Items that belong to another item: a Zuora discount item applies to one charge item of its document.

One rule for both dialects (issue 12, defect 6), as Zuora has it: a discount item lives and dies
with the item it applies to. Deleting that item deletes its discount items (Zuora PUT
/v1/invoices, Stripe remove_lines and DELETE /v1/invoiceitems alike); a discount item is never
removed on its own; an item with discount items is never unassigned (made pending), since a
discount item sits on its charge's document or nowhere. A discount item only takes away: its
amount is never positive, however it is edited.

`applied_to` maps each discount item id of a document to the id of the item it applies to.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal

from bulkbill.core.errors import ErrorCode, InputCollector, Path


def discount_items_of(applied_to: Mapping[str, str], item_id: str) -> list[str]:
    """The discount items applied to one item, in id order."""
    return sorted(d for d, target in applied_to.items() if target == item_id)


def check_removal(
    applied_to: Mapping[str, str],
    item_id: str,
    removed: Collection[str],
    *,
    unassign: bool,
    path: Path,
    errors: InputCollector,
) -> bool:
    """A discount item is deleted only with its item (in the same call); neither is ever unassigned.

    `removed` holds every item the call removes; True when this item may go.
    """
    target = applied_to.get(item_id)
    if target is not None and (unassign or target not in removed):
        errors.add(
            path,
            ErrorCode.LINE_NOT_REMOVABLE,
            f"Item {item_id} is a discount item of item {target}: "
            "it is deleted with that item, never on its own nor unassigned.",
        )
        return False
    if unassign and (discounts := discount_items_of(applied_to, item_id)):
        errors.add(
            path,
            ErrorCode.LINE_NOT_REMOVABLE,
            f"Item {item_id} has discount items ({', '.join(discounts)}) that belong to this document: "
            "delete it (its discount items go with it) instead of unassigning it.",
        )
        return False
    return True


def check_discount_target(
    applied_to: Mapping[str, str], item_id: str | None, removed: Collection[str], path: Path, errors: InputCollector
) -> bool:
    """Discount items apply to a charge item that stays: not to one being deleted, nor to a discount item."""
    if item_id is not None and (item_id in removed or item_id in applied_to):
        what = "is being deleted" if item_id in removed else "is itself a discount item"
        errors.add(path, ErrorCode.INVALID_VALUE, f"Item {item_id} {what}: it takes no discount items.")
        return False
    return True


def removed_with(applied_to: Mapping[str, str], item_ids: Iterable[str]) -> set[str]:
    """What deleting items deletes: the items themselves and every discount item applied to one of them."""
    gone = set(item_ids)
    return gone | {d for d, target in applied_to.items() if target in gone}


def check_applied_amount(amount: int | Decimal, path: Path, errors: InputCollector) -> None:
    """A discount item only takes away: its amount is negative (or zero), whatever field set it."""
    if amount > 0:
        errors.add(path, ErrorCode.INVALID_VALUE, "The amount of a discount item must be a negative number.")
