"""Random order-billing data for the scale tests, written straight to the tables (no HTTP).

Accounts with and without payment terms, balances (debits and credits) and orgs; orders of sales
and return lines, rule A and rule B, in every state, sent to billing or not, due or not; quantities
and unit prices with many decimal places (so rounding ties and large values occur); splitting
attributes, accounting codes, odd text; fulfillments in every state; some sources already billed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer, InvoiceItem
from bulkbill.storage.tables_orders import Fulfillment, Order, OrderLineItem, new_zuora_id

NOW = 1_717_200_000  # 2024-06-01
TARGET = dt.date(2024, 6, 30)
LINE_STATES = ("SentToBilling", "SentToBilling", "SentToBilling", "Complete", "Booked", "Executing")
FULFILLMENT_STATES = ("SentToBilling", "SentToBilling", "Complete", "Executing", "Booked")
TERMS = (None, None, "Net 30", "Net 45", "Due Upon Receipt", "Net 7")
TEXTS = (None, "Widget", 'A "quoted" name', "Übergrößenträger ✓", "line\nbreak", "\\back\\slash", "x" * 250)


@dataclass
class Dataset:
    tenant_id: str
    accounts: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    fulfillments: list[str] = field(default_factory=list)


def _date(rng: random.Random, *, nullable: bool = True) -> str | None:
    if nullable and rng.random() < 0.1:
        return None
    return (TARGET + dt.timedelta(days=rng.randint(-40, 15))).isoformat()


def _decimal(rng: random.Random, top: int, places: int) -> Decimal:
    scale = 10 ** rng.randint(0, places)
    return Decimal(rng.randint(1, top * scale)) / scale


def _attrs(rng: random.Random) -> dict[str, object]:
    attrs: dict[str, object] = {}
    if rng.random() < 0.15:
        attrs["paymentTerm"] = rng.choice(("Net 15", "Net 60", "Due Upon Receipt"))
    if rng.random() < 0.1:
        attrs["invoiceGroupNumber"] = rng.choice(("G-1", "G-2"))
    if rng.random() < 0.1:
        attrs["billTo"] = "b" * 32
    if rng.random() < 0.3:
        attrs["accountingCode"] = rng.choice(("4000", "4000-ü", 4000))
    if rng.random() < 0.2:
        attrs["deferredRevenueAccountingCode"] = "2000"
    if rng.random() < 0.2:
        attrs["soldTo"] = "s" * 32
    if rng.random() < 0.1:
        attrs["taxCode"] = "TX"
    if rng.random() < 0.1:
        attrs["purchaseOrderNumber"] = "PO-1"
    return attrs


def make_dataset(
    session: Session, tenant_id: str, rng: random.Random, *, accounts: int = 8, lines: int = 40
) -> Dataset:
    """Random accounts, orders, lines and fulfillments for a tenant; flushed, not committed."""
    data = Dataset(tenant_id)
    orgs = (None, "east", "west")
    account_rows = []
    for i in range(accounts):
        term = rng.choice(TERMS)
        profile: dict[str, object] = {}
        if term is not None:
            profile = {"paymentTerm": term} if rng.random() < 0.7 else {"billingAndPayment": {"paymentTerm": term}}
        customer = Customer(
            tenant_id=tenant_id,
            id=new_id("cus_", 18),
            name=f"Account {i}",
            currency=rng.choice(("usd", "usd", "eur")),
            balance=rng.choice((0, 0, 0, -2500, 1200, -(10**9))),
            invoice_prefix=new_id("", 12)[-12:].upper(),
            next_invoice_sequence=1,
            metadata_={},
            created=NOW,
            deleted=False,
            account_number=f"A{rng.randint(0, 10**9):09d}-{i}",
            org_label=rng.choice(orgs),
            profile=profile,
        )
        account_rows.append(customer)
        data.accounts.append(customer.id)
    session.add_all(account_rows)
    session.flush()
    orders: dict[str, Order] = {}
    line_rows: list[OrderLineItem] = []
    for j in range(lines):
        customer = rng.choice(account_rows)
        order = orders.get(customer.id)
        if order is None:
            order = orders[customer.id] = Order(
                tenant_id=tenant_id,
                id=new_zuora_id(),
                order_number=f"O-{new_zuora_id()[:12]}",
                account_id=customer.id,
                category="Sales",
                order_date="2024-05-01",
                status="Completed",
                custom_fields={},
                created=NOW,
                updated=NOW,
            )
            session.add(order)
            session.flush()
        rule_b = rng.random() < 0.3
        state = rng.choice(LINE_STATES)
        sent = state in ("SentToBilling", "Complete") and rng.random() < 0.9
        quantity = _decimal(rng, 40, 3)
        unit = _decimal(rng, rng.choice((100, 10_000, 10**9)), rng.choice((0, 2, 6, 9)))
        start = _date(rng, nullable=False)
        assert start is not None
        line = OrderLineItem(
            tenant_id=tenant_id,
            id=new_zuora_id(),
            order_id=order.id,
            item_number=str(j),
            account_id=customer.id,
            owner_account_id=customer.id,
            item_state=state,
            item_category="Return" if rng.random() < 0.2 else "Sales",
            billing_rule="TriggerAsFulfillmentOccurs" if rule_b else "TriggerWithoutFulfillment",
            item_type="Product",
            item_name=rng.choice(TEXTS),
            description=rng.choice(TEXTS),
            currency=customer.currency or "usd",
            quantity=quantity,
            list_price_per_unit=unit,
            amount_per_unit=unit,
            bill_target_date=_date(rng),
            transaction_start_date=start,
            transaction_end_date=start,
            uom=rng.choice((None, "Each", "kg")),
            product_code=rng.choice((None, "SKU-1", "SKU-ü")),
            sent_to_billing_at=NOW if sent else None,
            attrs=_attrs(rng),
            custom_fields={},
            created=NOW,
            updated=NOW,
        )
        line_rows.append(line)
        data.lines.append(line.id)
    session.add_all(line_rows)
    session.flush()
    for line in line_rows:
        for _ in range(rng.choice((0, 0, 1, 2))):
            state = rng.choice(FULFILLMENT_STATES)
            fulfillment = Fulfillment(
                tenant_id=tenant_id,
                id=new_zuora_id(),
                fulfillment_number=f"F-{new_zuora_id()[:14]}",
                order_line_item_id=line.id,
                state=state,
                fulfillment_type="Delivery",
                quantity=_decimal(rng, 10, 2),
                fulfillment_date=_date(rng, nullable=False) or "2024-06-01",
                bill_target_date=_date(rng),
                sent_to_billing_at=NOW if state in ("SentToBilling", "Complete") and rng.random() < 0.9 else None,
                custom_fields={},
                created=NOW,
                updated=NOW,
            )
            session.add(fulfillment)
            data.fulfillments.append(fulfillment.id)
    session.flush()
    # A few sources are billed already (by an earlier call): nothing may bill them again.
    billed = [("order_line_item", i) for i in data.lines if rng.random() < 0.08]
    billed += [("fulfillment", i) for i in data.fulfillments if rng.random() < 0.08]
    for kind, source_id in billed:
        session.add(
            InvoiceItem(
                tenant_id=tenant_id,
                id=new_id("ii_"),
                customer_id=data.accounts[0],
                invoice_id=None,
                kind="invoice_item",
                currency="usd",
                unit_amount_decimal=Decimal(1),
                quantity_decimal=Decimal(1),
                amount=1,
                amount_defined=True,
                discountable=True,
                discounts=[],
                period_start=NOW,
                period_end=NOW,
                metadata_={},
                created=NOW,
                source_type=kind,
                source_id=source_id,
                custom_fields={},
                extras={},
            )
        )
    session.flush()
    return data


def due_line(session: Session, tenant_id: str, account_id: str, *, bill_target: str = "2024-06-01") -> str:
    """One more due rule-A sales line for an account (a new order); returns its id."""
    order = Order(
        tenant_id=tenant_id,
        id=new_zuora_id(),
        order_number=f"O-{new_zuora_id()[:12]}",
        account_id=account_id,
        category="Sales",
        order_date="2024-05-01",
        status="Completed",
        custom_fields={},
        created=NOW,
        updated=NOW,
    )
    session.add(order)
    session.flush()
    line = OrderLineItem(
        tenant_id=tenant_id,
        id=new_zuora_id(),
        order_id=order.id,
        item_number="1",
        account_id=account_id,
        owner_account_id=account_id,
        item_state="SentToBilling",
        item_category="Sales",
        billing_rule="TriggerWithoutFulfillment",
        item_type="Product",
        item_name="Late",
        currency="usd",
        quantity=Decimal(3),
        list_price_per_unit=Decimal("333.5"),
        amount_per_unit=Decimal("333.5"),
        bill_target_date=bill_target,
        transaction_start_date="2024-06-01",
        transaction_end_date="2024-06-01",
        sent_to_billing_at=NOW,
        attrs={},
        custom_fields={},
        created=NOW,
        updated=NOW,
    )
    session.add(line)
    session.flush()
    return line.id
