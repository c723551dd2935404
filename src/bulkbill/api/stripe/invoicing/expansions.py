"""Expansions that put another resource in place of its id, applied to an object already rendered.

They live apart from the renderers because the resources refer to each other (a subscription shows
its latest invoice, an invoice line its subscription): the renderers are imported when called.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bulkbill.services.platform.uow import UnitOfWork


def expand_line_subscriptions(uow: UnitOfWork, lines: Iterable[dict[str, Any]]) -> None:
    """Each rendered line's `subscription` id becomes the Subscription object (one load per subscription)."""
    import bulkbill.services.subscriptions.subscriptions as service
    from bulkbill.api.stripe.subscriptions.subscriptions import render_subscription

    lines = list(lines)
    ids = sorted({line["subscription"] for line in lines if isinstance(line.get("subscription"), str)})
    if not ids:
        return
    views = service.views(uow, [service.get_subscription(uow, i) for i in ids])
    bodies = {view.subscription.id: render_subscription(view) for view in views}
    for line in lines:
        subscription = line.get("subscription")
        if isinstance(subscription, str) and subscription in bodies:
            line["subscription"] = bodies[subscription]


def expand_item_invoice(uow: UnitOfWork, item: dict[str, Any]) -> None:
    """A rendered invoice item's `invoice` id becomes the Invoice object (pending items keep null)."""
    from bulkbill.api.stripe.invoicing.invoices import invoice_response
    from bulkbill.services.invoicing.invoices import get_invoice

    if isinstance(item.get("invoice"), str):
        item["invoice"] = invoice_response(uow, get_invoice(uow, item["invoice"]), set())
