"""Subscriptions: create (first invoice finalized at once), change items, cancel, and run what falls due.

Time is the customer's: a test clock's frozen time when the customer has one, real time otherwise.
Trials, the billing cycle anchor, prorated partial periods, cancel_at and paused collection follow
core.subscriptions.terms; prorations of changes (and of a cancel) core.subscriptions.prorations.
Renewals and the one-hour finalization of renewal drafts happen in `run_due`, called when a test
clock advances, and, for subscriptions without a clock, lazily whenever the subscription is read or
changed through this module (there is no background scheduler). Every rule is the core's
(core.subscriptions); this module loads, writes and orders the work in one unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy import exists, false, select

from bulkbill.core.errors import ErrorCode, FieldError, InputCollector, InvalidInput, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.invoicing.commands import DiscountRef, LineChanges
from bulkbill.core.invoicing.items import ItemOwner, References, check_discounts, check_tax_rates, evolve
from bulkbill.core.invoicing.lifecycle import check_collection
from bulkbill.core.metadata import CLEAR, Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.core.subscriptions.billing_mode import BillingMode, UnusedTimeFrom, check_pausable, credit_from, migrated
from bulkbill.core.subscriptions.prorations import ProrationBehavior
from bulkbill.core.subscriptions.rules import (
    LINE_SOURCE_TYPE,
    BillingReason,
    Cadence,
    DraftTiming,
    EventKind,
    Interval,
    ItemChange,
    ItemsPlan,
    ItemState,
    SubscriptionStatus,
    SubscriptionTiming,
    ensure_updatable,
    line_description,
    next_event,
    plan_items,
    source_id,
    split_discounts,
    subscription_line,
)
from bulkbill.core.subscriptions.terms import (
    NOW,
    AnchorConfig,
    Move,
    PauseBehavior,
    Period,
    anchor_from_config,
    check_anchor,
    check_backdate,
    check_cancel_at,
    check_proration_date,
    check_resumes_at,
    check_trial_end,
    cycle_boundary,
    index_at,
    pause_in_effect,
    period_from,
    prorated_amount,
    transition,
    trial_end_move,
    trial_end_of,
)
from bulkbill.core.subscriptions.usage import USAGE_GTE
from bulkbill.services.catalog.discounts import apply_discounts
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.invoicing.invoice_items import NewItem, create_item
from bulkbill.services.invoicing.invoice_totals import load_lines, recalculate
from bulkbill.services.invoicing.invoices import (
    InvoiceFields,
    attach_item,
    create_invoice,
    finalize_invoice,
    mark_uncollectible,
    sweep_pending_items,
    void_invoice,
)
from bulkbill.services.invoicing.item_rows import new_item_row
from bulkbill.services.invoicing.references import ReferencedIds, load_references
from bulkbill.services.platform.pagination import Bounds, Cursor, Page, paginate, within
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.services.subscriptions.held_discounts import discount_terms
from bulkbill.services.subscriptions.item_prices import prices_by_id, product_names, recurring
from bulkbill.services.subscriptions.prorations import (
    add_prorations,
    billed_items,
    drop_pending_prorations,
    has_pending_items,
)
from bulkbill.services.subscriptions.usage import bill_usage, item_usage
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer, Discount, Invoice, Price, TaxRate
from bulkbill.storage.tables_subscriptions import BillingClock, Subscription, SubscriptionItem

SOURCE_TYPE = LINE_SOURCE_TYPE


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
    # Terms (core.subscriptions.terms). `cancel_at` may be "min_period_end"/"max_period_end".
    trial_end: int | str | None = None
    trial_period_days: int | None = None
    trial_from_plan: bool | None = None
    trial_end_behavior: str | None = None
    billing_cycle_anchor: int | None = None
    anchor_now: bool = False  # update: billing_cycle_anchor[type]=now
    anchor_config: AnchorConfig | None = None
    backdate_start_date: int | None = None
    cancel_at: int | str | Clear | None = None
    currency: str | None = None
    prorate: bool = True  # proration_behavior other than none: partial periods bill their share
    # On update: what a change in the current period does (core.subscriptions.prorations).
    proration_behavior: ProrationBehavior = ProrationBehavior.CREATE_PRORATIONS
    proration_date: int | None = None
    pause_collection: dict[str, Any] | Clear | None = None
    # Stored and rendered: billing_thresholds, pending_invoice_item_interval, invoice_settings, billing_mode.
    stored: dict[str, Any] = field(default_factory=dict)
    add_invoice_items: tuple[AddedItem, ...] = ()
    given: frozenset[str] = frozenset()
    # Made for a preview (create_preview): invoices made at once stay drafts, so they show as upcoming.
    preview: bool = False
    # Made by a subscription schedule at a phase boundary: the instant it happens (the schedule drives
    # the time, so nothing else falls due first); None: the customer's present.
    at: int | None = None


@dataclass(frozen=True)
class AddedItem:
    """One add_invoice_items entry: an invoice item for the subscription's next invoice.

    `start`/`end` are (type, timestamp) as Stripe's period[start|end] give them, or None.
    """

    changes: LineChanges
    start: tuple[str, int | None] | None = None
    end: tuple[str, int | None] | None = None


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
    prices = prices_by_id(uow, {i.price_id for i in items})
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
    rows = prices_by_id(uow, requested | {i.price_id for i in current})
    states = [
        ItemState(
            i.id,
            i.price_id,
            i.quantity,
            tuple(i.tax_rates) if i.tax_rates is not None else None,
            tuple(i.discounts),
            dict(i.metadata_),
            (i.usage or {}).get(USAGE_GTE),
        )
        for i in current
    ]
    prices = {p_id: recurring(p) for p_id, p in rows.items()}
    return plan_items(states, fields.items or (), prices, refs, owner, errors, currency=currency, cadence=cadence)


# --- create, update, cancel ------------------------------------------------------------------


def create_subscription(uow: UnitOfWork, fields: SubscriptionFields) -> Subscription:
    """A new subscription (trialing during a trial); its first invoice covers the first period (the trial at 0,
    a partial period prorated) and is finalized at once."""
    assert fields.customer is not None
    try:
        customer = get_customer(uow, fields.customer)
    except NotFound as exc:
        raise NotFound("customer", fields.customer, path=("customer",)) from exc
    now = fields.at if fields.at is not None else now_for(uow, customer.test_clock_id)
    work = at_time(uow, now)
    errors = InputCollector()
    if not fields.items:
        errors.missing(("items",))
        errors.raise_if_any()
    refs = _references(work, fields)
    first_price = prices_by_id(work, [c.price for c in fields.items or () if c.price][:1])
    if fields.currency is not None and customer.currency is not None and fields.currency != customer.currency:
        errors.add(
            ("currency",),
            ErrorCode.CURRENCY_MISMATCH,
            f"The customer is billed in {customer.currency}; this subscription cannot be in {fields.currency}.",
        )
    wanted_currency = fields.currency or customer.currency
    currency = wanted_currency or next((p.currency for p in first_price.values()), "usd")
    owner = ItemOwner(customer.id, currency)
    plan = _plan(work, fields, [], refs, owner, errors, currency=wanted_currency)
    method = fields.collection_method or "charge_automatically"
    check_collection(method, fields.days_until_due, None, errors, now=now)
    _check_common(fields, refs, owner, errors)
    metadata = merge_metadata({}, fields.metadata, ("metadata",), errors)
    start = fields.backdate_start_date if fields.backdate_start_date is not None else now
    if fields.backdate_start_date is not None:
        check_backdate(now, fields.backdate_start_date, errors)
    trial_end = trial_end_of(
        now,
        trial_end=fields.trial_end,
        trial_period_days=fields.trial_period_days,
        trial_from_plan=fields.trial_from_plan,
        errors=errors,
    )
    if trial_end is not None and fields.backdate_start_date is not None:
        errors.add(
            ("backdate_start_date",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "backdate_start_date cannot be combined with a trial in bulkbill.",
        )
    if fields.cancel_at_period_end and fields.cancel_at is not None:
        errors.add(
            ("cancel_at",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
        )
    errors.raise_if_any()
    assert plan is not None
    billing_start = trial_end if trial_end is not None else start
    anchor, day_of_month = _anchor(fields, billing_start, plan.cadence, errors)
    cancel_at = fields.cancel_at if isinstance(fields.cancel_at, int) else None
    if cancel_at is not None:
        check_cancel_at(now, cancel_at, start, errors)
    errors.raise_if_any()
    if trial_end is not None:
        billed = Period(now, trial_end, prorated=False)
        current = (now, trial_end)
    else:
        billed = period_from(start, anchor, plan.cadence, cancel_at=cancel_at, day_of_month=day_of_month)
        if billed.end <= now:  # backdated more than a period: one line from the start to the current period's end
            k = index_at(anchor, plan.cadence, now, day_of_month)
            end = cycle_boundary(anchor, plan.cadence, k + 1, day_of_month)
            end = min(end, cancel_at) if cancel_at is not None and cancel_at > now else end
            billed = Period(start, end, prorated=True)
            current = (cycle_boundary(anchor, plan.cadence, k, day_of_month), end)
        else:
            current = (billed.start, billed.end)
    if isinstance(fields.cancel_at, str):  # min_period_end / max_period_end: one cadence, one period end
        cancel_at = current[1]
    status = SubscriptionStatus.TRIALING if trial_end is not None else SubscriptionStatus.ACTIVE
    sub = Subscription(
        tenant_id=uow.tenant_id,
        id=new_id("sub_"),
        customer_id=customer.id,
        status=status.value,
        currency=plan.currency,
        collection_method=method,
        days_until_due=fields.days_until_due if method == "send_invoice" else None,
        description=fields.description if isinstance(fields.description, str) else None,
        default_tax_rates=list(fields.default_tax_rates) if isinstance(fields.default_tax_rates, tuple) else [],
        discounts=[],
        metadata_=metadata,
        interval=plan.cadence.interval.value,
        interval_count=plan.cadence.count,
        billing_cycle_anchor=anchor,
        period_index=0,
        current_period_start=current[0],
        current_period_end=current[1],
        start_date=start,
        created=now,
        cancel_at_period_end=bool(fields.cancel_at_period_end),
        canceled_at=now if fields.cancel_at_period_end or cancel_at is not None else None,
        cancellation_details={},
        test_clock_id=customer.test_clock_id,
        trial_start=now if trial_end is not None else None,
        trial_end=trial_end,
        trial_end_behavior=fields.trial_end_behavior or "create_invoice",
        anchor_config=asdict(fields.anchor_config) if fields.anchor_config is not None else None,
        cancel_at=cancel_at,
        pause_collection=None,
        terms=_stored({}, fields.stored),
    )
    work.session.add(sub)
    work.session.flush()
    if isinstance(fields.discounts, tuple):
        sub.discounts = apply_discounts(work, fields.discounts, customer_id=customer.id)
    _write_items(work, sub, plan, {})
    if customer.currency is None:
        customer.currency = plan.currency
    _add_invoice_items(work, sub, fields.add_invoice_items)
    invoice = _bill_period(
        work,
        sub,
        BillingReason.CREATE,
        bills=billed,
        invoice_period=(now, now),
        trial=trial_end is not None,
        prorate=fields.prorate,
    )
    if not fields.preview:
        finalize_invoice(work, invoice.id)
    work.session.flush()
    emit(uow, EventType.SUBSCRIPTION_CREATED, sub.id)
    return sub


def _anchor(
    fields: SubscriptionFields, billing_start: int, cadence: Cadence, errors: InputCollector
) -> tuple[int, int | None]:
    """The billing cycle anchor (chosen, configured, or the start of billing) and a configured day of month."""
    if fields.billing_cycle_anchor is not None and fields.anchor_config is not None:
        errors.add(
            ("billing_cycle_anchor_config",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You may only specify one of these parameters: billing_cycle_anchor, billing_cycle_anchor_config.",
        )
        return billing_start, None
    if fields.billing_cycle_anchor is not None:
        check_anchor(billing_start, fields.billing_cycle_anchor, cadence, errors)
        return fields.billing_cycle_anchor, None
    if fields.anchor_config is not None:
        anchor = anchor_from_config(billing_start, fields.anchor_config, cadence, errors)
        return (anchor if anchor is not None else billing_start), fields.anchor_config.day_of_month
    return billing_start, None


def _day_of_month(sub: Subscription) -> int | None:
    config = sub.anchor_config or {}
    day = config.get("day_of_month")
    return int(day) if day is not None else None


def _stored(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Stored settings merged: a value replaces, CLEAR removes; invoice_settings merges key by key."""
    out = dict(current)
    for name, value in changes.items():
        if isinstance(value, Clear):
            out.pop(name, None)
        elif name == "invoice_settings":
            merged = {**(out.get(name) or {}), **value}
            out[name] = {k: v for k, v in merged.items() if not isinstance(v, Clear)}
        else:
            out[name] = value
    return out


def _add_invoice_items(uow: UnitOfWork, sub: Subscription, added: Sequence[AddedItem]) -> None:
    """add_invoice_items: pending invoice items of the subscription, which its next invoice takes."""
    for i, entry in enumerate(added):
        changes = entry.changes
        period = _added_period(sub, entry, uow.now)
        if period is not None:
            changes = replace(changes, period=period, given=changes.given | {"period"})
        if changes.price_data is None and changes.price is None:
            _raise_at(("add_invoice_items", i), [FieldError(("price",), ErrorCode.PARAMETER_MISSING, "Missing price.")])
        if changes.currency is None:
            changes = replace(changes, currency=sub.currency)
        try:
            item = create_item(uow, NewItem(sub.customer_id, changes))
        except InvalidInput as exc:
            _raise_at(("add_invoice_items", i), exc.errors)
        if item.currency != sub.currency:
            _raise_at(
                ("add_invoice_items", i),
                [FieldError(("price",), ErrorCode.CURRENCY_MISMATCH, f"The item must be in {sub.currency}.")],
            )
        item.subscription_id = sub.id


def _added_period(sub: Subscription, entry: AddedItem, now: int) -> tuple[int, int] | None:
    if entry.start is None or entry.end is None:
        return None
    kind, at = entry.start
    start = now if kind == "now" else sub.current_period_start if kind == "max_item_period_start" else at
    kind, at = entry.end
    end = sub.current_period_end if kind == "min_item_period_end" else at
    return (start or now, end or sub.current_period_end)


def _raise_at(prefix: tuple[str | int, ...], errors: Sequence[FieldError]) -> NoReturn:
    raise InvalidInput([FieldError((*prefix, *e.path), e.code, e.message) for e in errors])


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
        row.usage = item_usage(row.usage, planned.usage_gte, metered=planned.price.metered)
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
    """Changes apply at once; the next period bills the new items. In the current period a changed price or
    quantity, a reset cycle, a trial started or an earlier cancel_at are prorated (core.subscriptions.prorations)
    unless proration_behavior is none; always_invoice invoices the prorations at once."""
    sub = get_subscription(uow, subscription_id, for_update=True)
    if fields.at is None:
        catch_up(uow, [sub])
    ensure_updatable(sub.status, fields.given)
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    now = fields.at if fields.at is not None else now_for(uow, sub.test_clock_id)
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
    new_period = plan is not None and plan.cadence != cadence
    if new_period and sub.status == SubscriptionStatus.ACTIVE:
        # Another billing period restarts the cycle now: unused time credited, the new period invoiced at once.
        fields = replace(fields, anchor_now=True)
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
    _check_terms(sub, fields, now, errors)
    errors.raise_if_any()
    prorating = _prorating(sub, fields)
    before = billed_items(work, sub, current) if prorating else []
    period = (sub.current_period_start, sub.current_period_end)
    if plan is not None:
        _write_items(work, sub, plan, {i.id: i for i in current})
        sub.interval, sub.interval_count = plan.cadence.interval.value, plan.cadence.count
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
    after = billed_items(work, sub, items_of(work, [sub.id])[sub.id]) if prorating else []
    _apply_terms(work, sub, fields, now)
    if prorating:
        at = fields.proration_date if fields.proration_date is not None else now
        ends_now = fields.anchor_now or isinstance(fields.trial_end, int)
        add_prorations(work, sub, before, [] if ends_now else after, at, period)
        if isinstance(fields.cancel_at, int) and period[0] < fields.cancel_at < period[1] and not ends_now:
            add_prorations(work, sub, after, [], fields.cancel_at, period)  # the time after cancel_at is credited
    work.session.flush()
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    if fields.trial_end == NOW or fields.anchor_now:
        run_due(uow, [sub], now)  # the trial ends, or the new cycle starts, now
    if fields.proration_behavior == ProrationBehavior.ALWAYS_INVOICE and has_pending_items(work, sub):
        _invoice_now(work, sub, preview=fields.preview)
    return sub


def _prorating(sub: Subscription, fields: SubscriptionFields) -> bool:
    """An active subscription's change in its current period is prorated unless proration_behavior is none.

    What is prorated: items (price or quantity), a cycle reset, a trial started, a cancel_at moved into
    the current period. A trialing subscription bills nothing for its period, so nothing to prorate.
    """
    if fields.proration_behavior == ProrationBehavior.NONE or sub.status != SubscriptionStatus.ACTIVE:
        return False
    cancel_at = fields.cancel_at
    return bool(
        fields.items
        or fields.anchor_now
        or isinstance(fields.trial_end, int)
        or (isinstance(cancel_at, int) and cancel_at < sub.current_period_end)
    )


def _invoice_now(uow: UnitOfWork, sub: Subscription, *, preview: bool = False) -> Invoice:
    """The subscription's pending items (its prorations) on an invoice made and finalized at once."""
    invoice = _subscription_invoice(uow, sub, BillingReason.UPDATE, (uow.now, uow.now))
    sweep_pending_items(uow, invoice, room=uow.settings.stripe_max_lines_per_invoice, only_subscription=sub.id)
    recalculate(uow, invoice, load_lines(uow, invoice.id))
    sub.latest_invoice_id = invoice.id
    if not preview:
        finalize_invoice(uow, invoice.id)
    return invoice


def _check_terms(sub: Subscription, fields: SubscriptionFields, now: int, errors: InputCollector) -> None:
    """An update's terms: a trial end in the future, cancel_at after now, resumes_at in the future, ..."""
    if fields.trial_from_plan and fields.trial_end is not None:
        errors.add(
            ("trial_from_plan",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "trial_from_plan cannot be combined with trial_end.",
        )
    if isinstance(fields.trial_end, int):
        check_trial_end(now, fields.trial_end, errors)
        if sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
            errors.add(("trial_end",), ErrorCode.INVALID_VALUE, f"A {sub.status} subscription cannot start a trial.")
    if fields.anchor_now and sub.status != SubscriptionStatus.ACTIVE:
        errors.add(
            ("billing_cycle_anchor",),
            ErrorCode.INVALID_VALUE,
            "Only an active subscription can reset its billing cycle anchor; end a trial with trial_end=now.",
        )
    if isinstance(fields.cancel_at, int):
        check_cancel_at(now, fields.cancel_at, sub.start_date, errors)
    if fields.cancel_at is not None and not isinstance(fields.cancel_at, Clear) and fields.cancel_at_period_end:
        errors.add(
            ("cancel_at",),
            ErrorCode.PARAMETERS_EXCLUSIVE,
            "You may only specify one of these parameters: cancel_at, cancel_at_period_end.",
        )
    if isinstance(fields.pause_collection, dict):
        check_resumes_at(now, fields.pause_collection.get("resumes_at"), errors)
    if fields.proration_date is not None:
        check_proration_date(fields.proration_date, sub.current_period_start, sub.current_period_end, errors)


def _apply_terms(uow: UnitOfWork, sub: Subscription, fields: SubscriptionFields, now: int) -> None:
    """Write an update's checked terms; changes apply from the next period on (bulkbill credits nothing)."""
    if fields.trial_end_behavior is not None:
        sub.trial_end_behavior = fields.trial_end_behavior
    if isinstance(fields.trial_end, int):
        sub.status = transition(sub.status, Move.START_TRIAL).value
        if sub.trial_start is None or sub.trial_end is None or sub.trial_end <= now:
            sub.trial_start = now
            sub.current_period_start = now
        sub.trial_end = sub.current_period_end = sub.billing_cycle_anchor = fields.trial_end
        sub.anchor_config = None
    elif fields.trial_end == NOW and sub.status == SubscriptionStatus.TRIALING:
        sub.trial_end = sub.current_period_end = sub.billing_cycle_anchor = now
        sub.anchor_config = None
    if fields.anchor_now:
        # The new cycle starts now: its first period is billed at once (nothing credited for the old one).
        sub.billing_cycle_anchor = sub.current_period_end = now
        sub.anchor_config = None
    if fields.cancel_at is not None:
        if isinstance(fields.cancel_at, Clear):
            sub.cancel_at = None
        else:
            sub.cancel_at = fields.cancel_at if isinstance(fields.cancel_at, int) else sub.current_period_end
            sub.cancel_at_period_end = False
        sub.canceled_at = now if sub.cancel_at is not None or sub.cancel_at_period_end else None
    if fields.pause_collection is not None:
        pause = fields.pause_collection
        sub.pause_collection = (
            None
            if isinstance(pause, Clear)
            else {
                "behavior": pause["behavior"],
                "resumes_at": pause.get("resumes_at"),
            }
        )
    if fields.stored:
        sub.terms = _stored(sub.terms or {}, fields.stored)
    _add_invoice_items(uow, sub, fields.add_invoice_items)


@dataclass(frozen=True)
class Cancellation:
    """DELETE /v1/subscriptions/{id}: `prorate` credits the unused time, `invoice_now` invoices what is pending."""

    details: dict[str, str | None] | None = None
    prorate: bool = False
    invoice_now: bool = False
    preview: bool = False  # made for a preview: the final invoice stays a draft


def cancel_subscription(uow: UnitOfWork, subscription_id: str, cancel: Cancellation | None = None) -> Subscription:
    """Cancel now: no further invoices but the final one (`invoice_now`); invoices already made keep their course.

    `prorate` credits each item's unused time of the current period as pending proration items; without
    `prorate` or `invoice_now`, the subscription's pending prorations are dropped (Stripe's rule).
    """
    cancel = cancel or Cancellation()
    sub = get_subscription(uow, subscription_id, for_update=True)
    catch_up(uow, [sub])
    transition(sub.status, Move.CANCEL)
    now = now_for(uow, sub.test_clock_id)
    work = at_time(uow, now)
    if cancel.prorate and sub.status == SubscriptionStatus.ACTIVE:
        before = billed_items(work, sub, items_of(work, [sub.id])[sub.id])
        add_prorations(work, sub, before, [], now, (sub.current_period_start, sub.current_period_end))
    elif not cancel.invoice_now:
        drop_pending_prorations(work, sub)
    _end(sub, now, {**(cancel.details or {}), "reason": "cancellation_requested"})
    if cancel.invoice_now and (cancel.preview or has_pending_items(work, sub)):
        _invoice_now(work, sub, preview=cancel.preview)
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_DELETED, sub.id)
    return sub


def resume_subscription(
    uow: UnitOfWork,
    subscription_id: str,
    *,
    anchor_now: bool,
    proration_behavior: ProrationBehavior = ProrationBehavior.NONE,
    proration_date: int | None = None,
) -> Subscription:
    """A paused subscription becomes active (Stripe's resume; bulkbill awaits no payment, so at once).

    With the billing cycle anchor reset to now (Stripe's default) a full period starts now, billed on
    an invoice finalized at once; with the anchor unchanged the cycle's current period goes on and its
    end renews as usual. Its rest, from `proration_date` (default: now), is charged as prorations, as
    on update (core.subscriptions.prorations: each item's "Remaining time", discounts netted in),
    pending for the next invoice or, with `always_invoice`, invoiced at once; `none` charges nothing.
    """
    sub = get_subscription(uow, subscription_id, for_update=True)
    catch_up(uow, [sub])
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    sub.status = transition(sub.status, Move.RESUME).value
    sub.terms = {k: v for k, v in (sub.terms or {}).items() if k != PAUSED_TERM}
    now = now_for(uow, sub.test_clock_id)
    work = at_time(uow, now)
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    if anchor_now:
        sub.billing_cycle_anchor, sub.anchor_config = now, None
        bills = period_from(now, now, cadence, cancel_at=sub.cancel_at)
        sub.current_period_start, sub.current_period_end = bills.start, bills.end
        sub.period_index += 1
        invoice = _bill_period(work, sub, BillingReason.CYCLE, bills=bills, invoice_period=(now, now))
        finalize_invoice(work, invoice.id)
    else:
        day_of_month = _day_of_month(sub)
        k = index_at(sub.billing_cycle_anchor, cadence, now, day_of_month)
        sub.current_period_start = cycle_boundary(sub.billing_cycle_anchor, cadence, k, day_of_month)
        sub.current_period_end = cycle_boundary(sub.billing_cycle_anchor, cadence, k + 1, day_of_month)
        if proration_behavior != ProrationBehavior.NONE:
            _prorate_resume(work, sub, proration_date if proration_date is not None else now)
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_RESUMED, sub.id)
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    if not anchor_now and proration_behavior == ProrationBehavior.ALWAYS_INVOICE and has_pending_items(work, sub):
        _invoice_now(work, sub)
    return sub


def _prorate_resume(uow: UnitOfWork, sub: Subscription, at: int) -> None:
    """A resume keeping the cycle charges the rest of the current period from `at`: nothing was billed for it."""
    period = (sub.current_period_start, sub.current_period_end)
    errors = InputCollector()
    check_proration_date(at, *period, errors)
    errors.raise_if_any()
    add_prorations(uow, sub, [], billed_items(uow, sub, items_of(uow, [sub.id])[sub.id]), at, period)


# sub.terms[PAUSED_TERM]: why and when a subscription paused on request ({"reason", "transitioned_at"}).
PAUSED_TERM = "paused"


def billing_mode_of(sub: Subscription) -> BillingMode:
    return BillingMode(((sub.terms or {}).get("billing_mode") or {}).get("type") or BillingMode.CLASSIC)


def migrate_billing_mode(uow: UnitOfWork, subscription_id: str, *, proration_discounts: str | None) -> Subscription:
    """POST /v1/subscriptions/{id}/migrate: classic becomes flexible billing mode, for good (core.billing_mode)."""
    sub = get_subscription(uow, subscription_id, for_update=True)
    catch_up(uow, [sub])
    if sub.status == SubscriptionStatus.CANCELED:
        transition(sub.status, Move.CANCEL)  # says it is canceled already
    mode = migrated(billing_mode_of(sub))
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    flexible = {"proration_discounts": proration_discounts} if proration_discounts else {}
    stored = {"type": mode.value, "flexible": flexible, "updated_at": now_for(uow, sub.test_clock_id)}
    sub.terms = {**(sub.terms or {}), "billing_mode": stored}
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    return sub


@dataclass(frozen=True)
class Pause:
    """POST /v1/subscriptions/{id}/pause: from when the current period's unused time is credited, and whether
    what is pending is invoiced at once (`invoicing_behavior=invoice`) or left for the next invoice."""

    unused_time_from: UnusedTimeFrom = UnusedTimeFrom.NOW
    invoice_now: bool = False


def pause_subscription(uow: UnitOfWork, subscription_id: str, pause: Pause) -> Subscription:
    """An active subscription in flexible billing mode becomes `paused`: no invoices until it is resumed.

    The current period was billed in advance, so its unused time (from now, or the whole period) is credited
    to the customer as proration items of the subscription, exactly as a cancel with `prorate` credits it.
    """
    sub = get_subscription(uow, subscription_id, for_update=True)
    catch_up(uow, [sub])
    paused = transition(sub.status, Move.PAUSE_REQUEST)
    check_pausable(billing_mode_of(sub))
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    now = now_for(uow, sub.test_clock_id)
    work = at_time(uow, now)
    start = credit_from(pause.unused_time_from, now, sub.current_period_start)
    if start is not None:
        before = billed_items(work, sub, items_of(work, [sub.id])[sub.id])
        add_prorations(work, sub, before, [], start, (sub.current_period_start, sub.current_period_end))
    sub.status = paused.value
    sub.terms = {**(sub.terms or {}), PAUSED_TERM: {"reason": "pause_requested", "transitioned_at": now}}
    if pause.invoice_now and has_pending_items(work, sub):
        _invoice_now(work, sub)
    uow.session.flush()
    emit(uow, EventType.SUBSCRIPTION_PAUSED, sub.id)
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)
    return sub


def _end(sub: Subscription, at: int, details: dict[str, Any]) -> None:
    sub.status = transition(sub.status, Move.CANCEL).value
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
    # Schedules change their subscriptions at phase boundaries, in time order with the rest of the due work.
    from bulkbill.services.subscriptions.schedules import run_due_with_schedules  # imports this module

    run_due_with_schedules(uow, real_time, uow.now)


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
            SubscriptionTiming(
                s.id,
                s.status,
                s.current_period_end,
                s.cancel_at_period_end,
                s.cancel_at,
                (s.pause_collection or {}).get("resumes_at"),
            )
            for s in by_id.values()
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
        elif event.kind == EventKind.RESUME:
            changing(uow, EventObject.SUBSCRIPTION, [event.target])
            by_id[event.target].pause_collection = None
            emit(uow, EventType.SUBSCRIPTION_UPDATED, event.target)
        elif event.kind == EventKind.TRIAL_END:
            _end_trial(work, by_id[event.target])
        else:
            changing(uow, EventObject.SUBSCRIPTION, [event.target])
            _renew(work, by_id[event.target])
            emit(uow, EventType.SUBSCRIPTION_UPDATED, event.target)
        uow.session.flush()


def _end_trial(uow: UnitOfWork, sub: Subscription) -> None:
    """The trial is over: its end behavior cancels, pauses, or starts the first paid period."""
    changing(uow, EventObject.SUBSCRIPTION, [sub.id])
    move = trial_end_move(sub.trial_end_behavior, sub.collection_method)
    if move == Move.CANCEL:
        _end(sub, uow.now, {"reason": "cancellation_requested"})
        emit(uow, EventType.SUBSCRIPTION_DELETED, sub.id)
        return
    sub.status = transition(sub.status, move).value
    if move == Move.END_TRIAL:
        _renew(uow, sub)
    emit(uow, EventType.SUBSCRIPTION_UPDATED, sub.id)


def _renew(uow: UnitOfWork, sub: Subscription) -> None:
    """The period ended: the next one is billed on a renewal invoice that stays a draft for an hour."""
    customer = uow.session.get(Customer, (uow.tenant_id, sub.customer_id))
    if customer is None or customer.deleted:
        _end(sub, uow.now, {"reason": "cancellation_requested", "comment": "The customer was deleted."})
        return
    previous = (sub.current_period_start, sub.current_period_end)
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    sub.period_index += 1
    bills = period_from(
        sub.current_period_end,
        sub.billing_cycle_anchor,
        cadence,
        cancel_at=sub.cancel_at,
        day_of_month=_day_of_month(sub),
    )
    sub.current_period_start, sub.current_period_end = bills.start, bills.end
    # Usage in arrears: the period that just ended, unless it was a trial (a trial's usage is free).
    usage_period = previous if sub.trial_end is None or previous[1] > sub.trial_end else None
    # A cycle reset in the very second the ended period began bills a second period from that instant.
    restart = sub.period_index if previous[0] == bills.start else None
    _bill_period(
        uow,
        sub,
        BillingReason.CYCLE,
        bills=bills,
        invoice_period=previous,
        usage_period=usage_period,
        restart=restart,
    )


def _bill_period(
    uow: UnitOfWork,
    sub: Subscription,
    reason: BillingReason,
    *,
    bills: Period,
    invoice_period: tuple[int, int],
    trial: bool = False,
    prorate: bool = True,
    usage_period: tuple[int, int] | None = None,
    restart: int | None = None,
) -> Invoice:
    """One invoice for one period: the customer's pending items first, then a line per item (Stripe's order).

    A trial bills each item at 0; a partial period bills its prorated share (0 without prorations). Metered
    items bill nothing ahead: a renewal bills their usage of `usage_period`, the period that just ended.
    """
    invoice = _subscription_invoice(uow, sub, reason, invoice_period)
    items = items_of(uow, [sub.id])[sub.id]
    sweep_pending_items(uow, invoice, room=uow.settings.stripe_max_lines_per_invoice - len(items))
    prices = prices_by_id(uow, {i.price_id for i in items})
    names = product_names(uow, {p.product_id for p in prices.values()})
    cadence = Cadence(Interval(sub.interval), sub.interval_count)
    for si in items:
        price = recurring(prices[si.price_id])
        if price.metered:
            continue
        item_split = split_discounts(discount_terms(uow, si.discounts), uow.now)
        name = names.get(price.product_id, price.product_id)
        values = subscription_line(
            currency=sub.currency,
            price=price,
            quantity=si.quantity,
            bills=(bills.start, bills.end),
            description=None,
            tax_rates=tuple(si.tax_rates) if si.tax_rates is not None else None,
            discounts=item_split.applied,
            metadata=sub.metadata_,
        )
        described = line_description(si.quantity, name, values.unit_amount_decimal, sub.currency, cadence)
        if trial:
            values = evolve(values, unit_amount_decimal=Decimal(0), amount=0, description=f"Trial period for {name}")
        elif bills.prorated:
            share = prorated_amount(values.amount, bills, cadence) if prorate else 0
            values = evolve(values, amount=share, amount_defined=True, description=f"Remaining time on {described}")
        else:
            values = evolve(values, description=described)
        row = new_item_row(
            uow,
            customer_id=sub.customer_id,
            invoice_id=invoice.id,
            values=values,
            subscription_id=sub.id,
            subscription_item_id=si.id,
            source_type=SOURCE_TYPE,
            source_id=source_id(si.id, bills.start, trial=trial, restart=restart),
        )
        attach_item(uow, invoice, row)
        if list(item_split.kept) != si.discounts:
            si.discounts = list(item_split.kept)
    if usage_period is not None:
        bill_usage(uow, sub, invoice, items, usage_period)
    recalculate(uow, invoice, load_lines(uow, invoice.id))
    sub.latest_invoice_id = invoice.id
    if reason == BillingReason.CYCLE:
        _pause_collection(uow, sub, invoice)
    return invoice


def _subscription_invoice(
    uow: UnitOfWork, sub: Subscription, reason: BillingReason, invoice_period: tuple[int, int]
) -> Invoice:
    """A new draft invoice of the subscription: its settings, metadata, default tax rates and the discounts due."""
    settings = (sub.terms or {}).get("invoice_settings") or {}
    invoice = create_invoice(
        uow,
        InvoiceFields(
            customer=sub.customer_id,
            currency=sub.currency,
            collection_method=sub.collection_method,
            days_until_due=sub.days_until_due,
            auto_advance=True,
            pending_invoice_items_behavior="exclude",
            description=settings.get("description"),
            footer=settings.get("footer"),
            custom_fields=settings.get("custom_fields"),
        ),
    )
    invoice.billing_reason = reason.value
    invoice.subscription_id = sub.id
    invoice.subscription_metadata = dict(sub.metadata_)
    invoice.period_start, invoice.period_end = invoice_period
    # Set directly, not re-checked: an archived tax rate keeps applying to the subscription it was on.
    invoice.default_tax_rates = list(sub.default_tax_rates)
    split = split_discounts(discount_terms(uow, sub.discounts), uow.now)
    invoice.discounts = list(split.applied)
    if list(split.kept) != sub.discounts:
        sub.discounts = list(split.kept)
    return invoice


def _pause_collection(uow: UnitOfWork, sub: Subscription, invoice: Invoice) -> None:
    """An invoice made while collection is paused: kept a draft (no auto-advance), or finalized and then
    marked uncollectible or voided at once (one with nothing due is paid on finalizing and stays so)."""
    behavior = pause_in_effect(sub.pause_collection, uow.now)
    if behavior is None:
        return
    invoice.auto_advance = False
    if behavior == PauseBehavior.KEEP_AS_DRAFT:
        return
    finalize_invoice(uow, invoice.id)
    if invoice.status != "open":
        return
    if behavior == PauseBehavior.VOID:
        void_invoice(uow, invoice.id)
    else:
        mark_uncollectible(uow, invoice.id)
