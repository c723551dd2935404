"""Subscriptions: create (first invoice finalized at once), change items, cancel, and run what falls due.

Time is the customer's: a test clock's frozen time when the customer has one, real time otherwise.
Renewals and the one-hour finalization of renewal drafts happen in `run_due`, called when a test
clock advances, and, for subscriptions without a clock, lazily whenever the subscription is read or
changed through this module (there is no background scheduler). Every rule is the core's
(core.subscriptions); this module loads, writes and orders the work in one unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, false, select

from bulkbill.core.errors import InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.commands import DiscountRef
from bulkbill.core.invoicing.items import ItemOwner, References, check_discounts, check_tax_rates
from bulkbill.core.invoicing.lifecycle import check_collection
from bulkbill.core.metadata import CLEAR, Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.subscriptions.rules import (
    BillingReason,
    Cadence,
    DiscountTerm,
    DraftTiming,
    EventKind,
    Interval,
    ItemChange,
    ItemsPlan,
    ItemState,
    RecurringPrice,
    SubscriptionStatus,
    SubscriptionTiming,
    ensure_cancelable,
    ensure_updatable,
    line_description,
    next_event,
    period,
    plan_items,
    source_id,
    split_discounts,
    subscription_line,
)
from bulkbill.services.catalog.discounts import apply_discounts
from bulkbill.services.catalog.price_schemes import scheme_of
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_totals import load_lines, recalculate
from bulkbill.services.invoicing.invoices import (
    InvoiceFields,
    attach_item,
    create_invoice,
    finalize_invoice,
    sweep_pending_items,
)
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.invoicing.references import ReferencedIds, load_references
from bulkbill.services.platform.pagination import Bounds, Cursor, Page, paginate, within
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Coupon, Customer, Discount, Invoice, Price, Product, TaxRate
from bulkbill.storage.tables_subscriptions import BillingClock, Subscription, SubscriptionItem

SOURCE_TYPE = "subscription_item"


@dataclass(frozen=True)
class SubscriptionFields:
    """Create uses every field; update the ones in `given` (None leaves a field unchanged)."""

    customer: str | None = None
    items: tuple[ItemChange, ...] | None = None
    collection_method: str | None = None
    days_until_due: int | None = None
    default_tax_rates: tuple[str, ...] | Clear | None = None
    discounts: tuple[DiscountRef, ...] | Clear | None = None
    metadata: MetadataUpdate | None = None
    description: str | Clear | None = None
    cancel_at_period_end: bool | None = None
    cancellation_details: dict[str, str | None] | None = None
    given: frozenset[str] = frozenset()


@dataclass
class SubscriptionView:
    """A subscription with its items and the prices and tax rates they show."""

    subscription: Subscription
    items: list[SubscriptionItem]
    prices: dict[str, Price] = field(default_factory=dict)
    tax_rates: dict[str, TaxRate] = field(default_factory=dict)


# --- time ------------------------------------------------------------------------------------


def at_time(uow: UnitOfWork, now: int) -> UnitOfWork:
    """The same unit of work seen at another instant (a test clock's time, or when work fell due)."""
    return UnitOfWork(uow.session, uow.settings, uow.tenant_id, now, uow.after_commit)


def now_for(uow: UnitOfWork, test_clock_id: str | None) -> int:
    """A customer's present: its test clock's frozen time, or real time."""
    if test_clock_id is None:
        return uow.now
    clock = uow.session.get(BillingClock, (uow.tenant_id, test_clock_id))
    return clock.frozen_time if clock is not None else uow.now


# --- loading ---------------------------------------------------------------------------------


def _recurring(p: Price) -> RecurringPrice:
    cadence = None
    if p.type == "recurring" and p.recurring_interval is not None:
        cadence = Cadence(Interval(p.recurring_interval), p.recurring_interval_count or 1)
    scheme = scheme_of(p) if p.pricing else None
    return RecurringPrice(p.id, p.currency, p.unit_amount_decimal, p.product_id, cadence, p.active, scheme)


def _prices(uow: UnitOfWork, ids: Iterable[str]) -> dict[str, Price]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = uow.session.scalars(select(Price).where(Price.tenant_id == uow.tenant_id, Price.id.in_(wanted)))
    return {p.id: p for p in rows}


def get_subscription(uow: UnitOfWork, subscription_id: str, *, for_update: bool = False) -> Subscription:
    query = select(Subscription).where(Subscription.tenant_id == uow.tenant_id, Subscription.id == subscription_id)
    if for_update and uow.is_postgres:
        query = query.with_for_update()
    sub = uow.session.scalar(query)
    if sub is None:
        raise NotFound("subscription", subscription_id)
    return sub


def items_of(uow: UnitOfWork, subscription_ids: Sequence[str]) -> dict[str, list[SubscriptionItem]]:
    """Each subscription's items in creation order, in one query."""
    result: dict[str, list[SubscriptionItem]] = {s: [] for s in subscription_ids}
    if not subscription_ids:
        return result
    rows = uow.session.scalars(
        select(SubscriptionItem)
        .where(SubscriptionItem.tenant_id == uow.tenant_id, SubscriptionItem.subscription_id.in_(subscription_ids))
        .order_by(SubscriptionItem.created, SubscriptionItem.id)
    )
    for row in rows:
        result[row.subscription_id].append(row)
    return result


def get_item(uow: UnitOfWork, item_id: str) -> SubscriptionItem:
    item = uow.session.get(SubscriptionItem, (uow.tenant_id, item_id))
    if item is None:
        raise NotFound("subscription_item", item_id)
    return item


def views(uow: UnitOfWork, subs: Sequence[Subscription]) -> list[SubscriptionView]:
    """Subscriptions with their items, prices and tax rates, in a fixed number of queries."""
    by_sub = items_of(uow, [s.id for s in subs])
    items = [i for rows in by_sub.values() for i in rows]
    prices = _prices(uow, {i.price_id for i in items})
    rate_ids = {r for s in subs for r in s.default_tax_rates} | {r for i in items for r in i.tax_rates or ()}
    rates: dict[str, TaxRate] = {}
    if rate_ids:
        rates = {
            r.id: r
            for r in uow.session.scalars(
                select(TaxRate).where(TaxRate.tenant_id == uow.tenant_id, TaxRate.id.in_(rate_ids))
            )
        }
    return [SubscriptionView(s, by_sub[s.id], prices, rates) for s in subs]


def _discount_terms(uow: UnitOfWork, ids: Sequence[str]) -> list[DiscountTerm]:
    if not ids:
        return []
    rows = {
        d_id: (duration, months, start)
        for d_id, duration, months, start in uow.session.execute(
            select(Discount.id, Coupon.duration, Coupon.duration_in_months, Discount.start)
            .join(Coupon, (Coupon.tenant_id == Discount.tenant_id) & (Coupon.id == Discount.coupon_id))
            .where(Discount.tenant_id == uow.tenant_id, Discount.id.in_(list(ids)))
        )
    }
    return [DiscountTerm(d, *rows[d]) for d in ids if d in rows]


# --- checks ----------------------------------------------------------------------------------


def _references(uow: UnitOfWork, fields: SubscriptionFields) -> References:
    ids = ReferencedIds()
    for change in fields.items or ():
        if isinstance(change.tax_rates, tuple):
            ids.tax_rates.update(change.tax_rates)
        if isinstance(change.discounts, tuple):
            ids.add_discounts(change.discounts)
    if isinstance(fields.default_tax_rates, tuple):
        ids.tax_rates.update(fields.default_tax_rates)
    if isinstance(fields.discounts, tuple):
        ids.add_discounts(fields.discounts)
    return load_references(uow, ids)


def _check_common(fields: SubscriptionFields, refs: References, owner: ItemOwner, errors: InputCollector) -> None:
    if isinstance(fields.default_tax_rates, tuple):
        check_tax_rates(fields.default_tax_rates, refs, ("default_tax_rates",), errors)
    if isinstance(fields.discounts, tuple):
        check_discounts(fields.discounts, owner, refs, ("discounts",), errors)
    check_metadata(fields.metadata, ("metadata",), errors)


def _plan(
    uow: UnitOfWork,
    fields: SubscriptionFields,
    current: Sequence[SubscriptionItem],
    refs: References,
    owner: ItemOwner,
    errors: InputCollector,
    *,
    currency: str | None,
    cadence: Cadence | None = None,
) -> ItemsPlan | None:
    requested = {c.price for c in fields.items or () if c.price is not None}
    rows = _prices(uow, requested | {i.price_id for i in current})
    states = [
        ItemState(
            i.id,
            i.price_id,
            i.quantity,
            tuple(i.tax_rates) if i.tax_rates is not None else None,
            tuple(i.discounts),
            dict(i.metadata_),
        )
        for i in current
    ]
    prices = {p_id: _recurring(p) for p_id, p in rows.items()}
    return plan_items(states, fields.items or (), prices, refs, owner, errors, currency=currency, cadence=cadence)


# --- create, update, cancel ------------------------------------------------------------------


def create_subscription(uow: UnitOfWork, fields: SubscriptionFields) -> Subscription:
    """A new active subscription; its first invoice covers the first period and is finalized at once."""
    assert fields.customer is not None
    try:
        customer = get_customer(uow, fields.customer)
    except NotFound as exc:
        raise NotFound("customer", fields.customer, path=("customer",)) from exc
    now = now_for(uow, customer.test_clock_id)
    work = at_time(uow, now)
    errors = InputCollector()
    if not fields.items:
        errors.missing(("items",))
        errors.raise_if_any()
    refs = _references(work, fields)
    first_price = _prices(work, [c.price for c in fields.items or () if c.price][:1])
    currency = customer.currency or next((p.currency for p in first_price.values()), "usd")
    owner = ItemOwner(customer.id, currency)
    plan = _plan(work, fields, [], refs, owner, errors, currency=customer.currency)
    method = fields.collection_method or "charge_automatically"
    check_collection(method, fields.days_until_due, None, errors, now=now)
    _check_common(fields, refs, owner, errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    assert plan is not None
    start, end = period(now, plan.cadence, 0)
    sub = Subscription(
        tenant_id=uow.tenant_id,
        id=new_id("sub_"),
        customer_id=customer.id,
        status=SubscriptionStatus.ACTIVE.value,
        currency=plan.currency,
        collection_method=method,
        days_until_due=fields.days_until_due if method == "send_invoice" else None,
        description=fields.description if isinstance(fields.description, str) else None,
        default_tax_rates=list(fields.default_tax_rates) if isinstance(fields.default_tax_rates, tuple) else [],
        discounts=[],
        metadata_=metadata,
        interval=plan.cadence.interval.value,
        interval_count=plan.cadence.count,
        billing_cycle_anchor=now,
        period_index=0,
        current_period_start=start,
        current_period_end=end,
        start_date=now,
        created=now,
        cancel_at_period_end=bool(fields.cancel_at_period_end),
        canceled_at=now if fields.cancel_at_period_end else None,
        cancellation_details={},
        test_clock_id=customer.test_clock_id,
    )
    work.session.add(sub)
    work.session.flush()
    if isinstance(fields.discounts, tuple):
        sub.discounts = apply_discounts(work, fields.discounts, customer_id=customer.id)
    _write_items(work, sub, plan, {})
    if customer.currency is None:
        customer.currency = plan.currency
    invoice = _bill_period(work, sub, BillingReason.CREATE, bills=(start, end), invoice_period=(now, now))
    finalize_invoice(work, invoice.id)
    work.session.flush()
    emit(uow, EventType.SUBSCRIPTION_CREATED, sub.id)
    return sub


def _write_items(uow: UnitOfWork, sub: Subscription, plan: ItemsPlan, existing: dict[str, SubscriptionItem]) -> None:
    for item_id in plan.deleted:
        row = existing.pop(item_id, None)
        if row is not None:
            uow.session.delete(row)
    for planned in plan.items:
        row = existing.get(planned.id) if planned.id is not None else None
        if row is None:
            row = SubscriptionItem(
                tenant_id=uow.tenant_id,
                id=new_id("si_", 14),
                subscription_id=sub.id,
                created=uow.now,
                discounts=[],
                metadata_={},
            )
            uow.session.add(row)
        row.price_id = planned.price.id
        row.quantity = planned.quantity
        row.tax_rates = list(planned.tax_rates) if planned.tax_rates is not None else None
        discount_ids = apply_discounts(uow, planned.discounts, customer_id=sub.customer_id)
        if row.discounts != discount_ids:
            row.discounts = discount_ids
        if row.metadata_ != planned.metadata:
            row.metadata_ = dict(planned.metadata)
    uow.session.flush()


def delete_discount(uow: UnitOfWork, subscription_id: str) -> tuple[Subscription, Discount]:
    """The subscription's discounts end (its next invoices are not discounted); the first one is returned."""
    sub = get_subscription(uow, subscription_id, for_update=True)
    first = uow.session.get(Discount, (uow.tenant_id, sub.discounts[0])) if sub.discounts else None
    if first is None:
        raise NotFound("discount", f"{subscription_id}/discount")
    update_subscription(uow, subscription_id, SubscriptionFields(discounts=CLEAR, given=frozenset({"discounts"})))
    return sub, first


def update_subscription(uow: UnitOfWork, subscription_id: str, fields: SubscriptionFields) -> Subscription:
    """Changes apply from the next period on: bulkbill never prorates (as proration_behavior=none)."""
    sub = get_subscription(uow, subscription_id, for_update=True)
    catch_up(uow, [sub])
    ensure_updatable(sub.status, fields.given)
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    now = now_for(uow, sub.test_clock_id)
    work = at_time(uow, now)
    errors = InputCollector()
    refs = _references(work, fields)
    owner = ItemOwner(sub.customer_id, sub.currency)
    current = items_of(work, [sub.id])[sub.id]
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    plan = (
        _plan(work, fields, current, refs, owner, errors, currency=sub.currency, cadence=cadence)
        if fields.items
        else None
    )
    method = fields.collection_method or sub.collection_method
    if "days_until_due" in fields.given:
        days = fields.days_until_due
    else:
        # Switching collection method starts the payment terms afresh.
        days = sub.days_until_due if method == sub.collection_method else None
    if fields.given & {"collection_method", "days_until_due"}:
        check_collection(method, days, None, errors, now=now)
    _check_common(fields, refs, owner, errors)
    metadata = merge_metadata(sub.metadata_, fields.metadata, ("metadata",), errors)
    errors.raise_if_any()
    if plan is not None:
        _write_items(work, sub, plan, {i.id: i for i in current})
    sub.collection_method = method
    sub.days_until_due = days if method == "send_invoice" else None
    if sub.metadata_ != metadata:
        sub.metadata_ = metadata
    if fields.description is not None:
        sub.description = fields.description if isinstance(fields.description, str) else None
    if fields.default_tax_rates is not None:
        rates = fields.default_tax_rates
        sub.default_tax_rates = list(rates) if isinstance(rates, tuple) else []
    if fields.discounts is not None:
        refs_given = fields.discounts if isinstance(fields.discounts, tuple) else ()
        sub.discounts = apply_discounts(work, refs_given, customer_id=sub.customer_id)
    if fields.cancel_at_period_end is not None and fields.cancel_at_period_end != sub.cancel_at_period_end:
        sub.cancel_at_period_end = fields.cancel_at_period_end
        # Stripe: canceled_at is when cancellation was requested, until the period actually ends.
        sub.canceled_at = now if fields.cancel_at_period_end else None
    if fields.cancellation_details is not None:
        sub.cancellation_details = {**sub.cancellation_details, **fields.cancellation_details}
    work.session.flush()
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    return sub


def cancel_subscription(
    uow: UnitOfWork, subscription_id: str, details: dict[str, str | None] | None = None
) -> Subscription:
    """Cancel now: no further invoices; invoices already made keep their course."""
    sub = get_subscription(uow, subscription_id, for_update=True)
    catch_up(uow, [sub])
    ensure_cancelable(sub.status)
    now = now_for(uow, sub.test_clock_id)
    _end(sub, now, {**(details or {}), "reason": "cancellation_requested"})
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_DELETED, sub.id)
    return sub


def _end(sub: Subscription, at: int, details: dict[str, Any]) -> None:
    sub.status = SubscriptionStatus.CANCELED.value
    if sub.canceled_at is None or not sub.cancel_at_period_end:
        sub.canceled_at = at
    sub.ended_at = at
    sub.cancel_at_period_end = False
    sub.cancellation_details = {"comment": None, "feedback": None, **sub.cancellation_details, **details}


def list_subscriptions(
    uow: UnitOfWork,
    cursor: Cursor,
    *,
    customer: str | None = None,
    price: str | None = None,
    status: str | None = None,
    test_clock: str | None = None,
    collection_method: str | None = None,
    periods: tuple[Bounds | None, Bounds | None] = (None, None),
    none: bool = False,
) -> Page[Subscription]:
    """Newest first; without a status, canceled subscriptions are left out (Stripe's default)."""
    query = select(Subscription).where(Subscription.tenant_id == uow.tenant_id)
    if none:
        query = query.where(false())
    query = within(query, Subscription.current_period_start, periods[0])
    query = within(query, Subscription.current_period_end, periods[1])
    if customer is not None:
        query = query.where(Subscription.customer_id == customer)
    if test_clock is not None:
        query = query.where(Subscription.test_clock_id == test_clock)
    if collection_method is not None:
        query = query.where(Subscription.collection_method == collection_method)
    if status is None:
        query = query.where(Subscription.status != SubscriptionStatus.CANCELED.value)
    elif status == "ended":
        query = query.where(Subscription.status == SubscriptionStatus.CANCELED.value)
    elif status != "all":
        query = query.where(Subscription.status == status)
    if price is not None:
        query = query.where(
            exists().where(
                SubscriptionItem.tenant_id == Subscription.tenant_id,
                SubscriptionItem.subscription_id == Subscription.id,
                SubscriptionItem.price_id == price,
            )
        )
    page: Page[Subscription] = paginate(uow, query, Subscription, cursor)
    catch_up(uow, page.data)
    return page


# --- what falls due --------------------------------------------------------------------------


def catch_up(uow: UnitOfWork, subs: Sequence[Subscription]) -> None:
    """Subscriptions without a test clock run in real time: do their due work now (lazily, on access)."""
    real_time = [s for s in subs if s.test_clock_id is None]
    if not real_time:
        return
    if uow.is_postgres:
        # Two readers of one subscription must not both renew it: lock, then see the latest state.
        real_time = list(
            uow.session.scalars(
                select(Subscription)
                .where(Subscription.tenant_id == uow.tenant_id, Subscription.id.in_([s.id for s in real_time]))
                .order_by(Subscription.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
    run_due(uow, real_time, uow.now)


def run_due(uow: UnitOfWork, subs: Sequence[Subscription], until: int) -> None:
    """Everything due by `until`, in time order: renewal drafts, their finalization an hour later, period-end ends."""
    by_id = {s.id: s for s in subs}
    if not by_id:
        return
    while True:
        drafts = [
            DraftTiming(i, created, chosen)
            for i, created, chosen in uow.session.execute(
                select(Invoice.id, Invoice.created, Invoice.chosen_finalizes_at).where(
                    Invoice.tenant_id == uow.tenant_id,
                    Invoice.subscription_id.in_(list(by_id)),
                    Invoice.status == "draft",
                    Invoice.auto_advance.is_(True),
                    Invoice.billing_reason == BillingReason.CYCLE.value,
                )
            )
        ]
        timings = [
            SubscriptionTiming(s.id, s.status, s.current_period_end, s.cancel_at_period_end) for s in by_id.values()
        ]
        event = next_event(timings, drafts, until)
        if event is None:
            return
        work = at_time(uow, event.at)
        if event.kind == EventKind.FINALIZE:
            finalize_invoice(work, event.target)
        elif event.kind == EventKind.END:
            changing(uow, EventObject.SUBSCRIPTION, [event.target])
            _end(by_id[event.target], event.at, {"reason": "cancellation_requested"})
            emit(uow, EventType.SUBSCRIPTION_DELETED, event.target)
        else:
            changing(uow, EventObject.SUBSCRIPTION, [event.target])
            _renew(work, by_id[event.target])
            emit(uow, EventType.SUBSCRIPTION_UPDATED, event.target)
        uow.session.flush()


def _renew(uow: UnitOfWork, sub: Subscription) -> None:
    """The period ended: the next one is billed on a renewal invoice that stays a draft for an hour."""
    customer = uow.session.get(Customer, (uow.tenant_id, sub.customer_id))
    if customer is None or customer.deleted:
        _end(sub, uow.now, {"reason": "cancellation_requested", "comment": "The customer was deleted."})
        return
    previous = (sub.current_period_start, sub.current_period_end)
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    sub.period_index += 1
    sub.current_period_start, sub.current_period_end = period(sub.billing_cycle_anchor, cadence, sub.period_index)
    _bill_period(
        uow, sub, BillingReason.CYCLE, bills=(sub.current_period_start, sub.current_period_end), invoice_period=previous
    )


def _bill_period(
    uow: UnitOfWork,
    sub: Subscription,
    reason: BillingReason,
    *,
    bills: tuple[int, int],
    invoice_period: tuple[int, int],
) -> Invoice:
    """One invoice for one period: the customer's pending items first, then a line per item (Stripe's order)."""
    invoice = create_invoice(
        uow,
        InvoiceFields(
            customer=sub.customer_id,
            currency=sub.currency,
            collection_method=sub.collection_method,
            days_until_due=sub.days_until_due,
            auto_advance=True,
            pending_invoice_items_behavior="exclude",
        ),
    )
    invoice.billing_reason = reason.value
    invoice.subscription_id = sub.id
    invoice.subscription_metadata = dict(sub.metadata_)
    invoice.period_start, invoice.period_end = invoice_period
    # Set directly, not re-checked: an archived tax rate keeps applying to the subscription it was on.
    invoice.default_tax_rates = list(sub.default_tax_rates)
    split = split_discounts(_discount_terms(uow, sub.discounts), uow.now)
    invoice.discounts = list(split.applied)
    if list(split.kept) != sub.discounts:
        sub.discounts = list(split.kept)
    items = items_of(uow, [sub.id])[sub.id]
    sweep_pending_items(uow, invoice, room=uow.settings.stripe_max_lines_per_invoice - len(items))
    prices = _prices(uow, {i.price_id for i in items})
    product_ids = {p.product_id for p in prices.values()}
    names: dict[str, str] = {
        product_id: name
        for product_id, name in uow.session.execute(
            select(Product.id, Product.name).where(Product.tenant_id == uow.tenant_id, Product.id.in_(product_ids))
        )
    }
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    for si in items:
        price = _recurring(prices[si.price_id])
        unit = price.unit_amount_decimal if price.unit_amount_decimal is not None else Decimal(0)
        item_split = split_discounts(_discount_terms(uow, si.discounts), uow.now)
        values = subscription_line(
            currency=sub.currency,
            price=price,
            quantity=si.quantity,
            bills=bills,
            description=line_description(
                si.quantity, names.get(price.product_id, price.product_id), unit, sub.currency, cadence
            ),
            tax_rates=tuple(si.tax_rates) if si.tax_rates is not None else None,
            discounts=item_split.applied,
            metadata=sub.metadata_,
        )
        row = new_item_row(
            uow,
            customer_id=sub.customer_id,
            invoice_id=invoice.id,
            values=values,
            subscription_id=sub.id,
            subscription_item_id=si.id,
            source_type=SOURCE_TYPE,
            source_id=source_id(si.id, bills[0]),
        )
        attach_item(uow, invoice, row)
        if list(item_split.kept) != si.discounts:
            si.discounts = list(item_split.kept)
    recalculate(uow, invoice, load_lines(uow, invoice.id))
    sub.latest_invoice_id = invoice.id
    return invoice
