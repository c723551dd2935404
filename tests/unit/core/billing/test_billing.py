"""The billing planner: what is due, and how sources group into invoices and credit memos."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from bulkbill.core.billing.plan import (
    BillableSource,
    DocumentType,
    SourceType,
    document_type_for,
    due_date,
    due_for_bill_run,
    due_for_run_billing,
    payment_term_days,
    plan_documents,
)
from bulkbill.core.orders.line_items import ItemCategory

DAY = dt.date(2021, 2, 1)


def source(source_id: str = "l1", **kw: object) -> BillableSource:
    base = BillableSource(
        source_type=SourceType.ORDER_LINE_ITEM,
        source_id=source_id,
        account_id="acc1",
        currency="usd",
        category=ItemCategory.SALES,
        state="SentToBilling",
        quantity=Decimal(2),
        unit_amount=Decimal("1050.5"),
        bill_target_date=DAY,
        sent_to_billing=True,
        billed=False,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


class TestSelection:
    def test_run_billing_ignores_the_bill_target_date(self) -> None:
        assert due_for_run_billing(source(bill_target_date=dt.date(2099, 1, 1)))
        assert due_for_run_billing(source(bill_target_date=None))
        assert not due_for_run_billing(source(billed=True))
        assert not due_for_run_billing(source(state="Booked"))
        assert not due_for_run_billing(source(state="Complete"))

    def test_bill_runs_take_what_is_due_by_the_target_date(self) -> None:
        assert due_for_bill_run(source(), DAY)
        assert due_for_bill_run(source(), DAY + dt.timedelta(days=1))
        assert not due_for_bill_run(source(), DAY - dt.timedelta(days=1))
        assert not due_for_bill_run(source(bill_target_date=None), DAY)
        assert not due_for_bill_run(source(billed=True), DAY)
        assert not due_for_bill_run(source(state="Booked"), DAY)
        assert not due_for_bill_run(source(state="Executing"), DAY)

    def test_complete_after_sent_to_billing_is_still_owed(self) -> None:
        assert due_for_bill_run(source(state="Complete"), DAY)
        assert not due_for_bill_run(source(state="Complete", sent_to_billing=False), DAY)


class TestPlan:
    def test_one_invoice_per_account_and_currency(self) -> None:
        plans = plan_documents(
            [
                source("l1"),
                source("l2", quantity=Decimal(1)),
                source("l3", account_id="acc2"),
                source("l4", currency="eur"),
            ]
        )
        assert [(p.account_id, p.currency, len(p.lines)) for p in plans] == [
            ("acc1", "usd", 2),
            ("acc2", "usd", 1),
            ("acc1", "eur", 1),
        ]
        assert [line.amount for line in plans[0].lines] == [2101, 1051]  # 1050.5 x 2; 1050.5 x 1 rounded half up
        assert plans[0].total == 3152

    def test_returns_go_on_a_credit_memo(self) -> None:
        plans = plan_documents([source("l1"), source("r1", category=ItemCategory.RETURN)])
        assert [p.document_type for p in plans] == [DocumentType.INVOICE, DocumentType.CREDIT_MEMO]
        assert plans[1].total > 0
        assert document_type_for(ItemCategory.RETURN) == DocumentType.CREDIT_MEMO

    def test_differing_billing_attributes_split_documents(self) -> None:
        plans = plan_documents(
            [
                source("l1", attributes=(("paymentTerm", "Net 30"),)),
                source("l2", attributes=(("paymentTerm", "Net 60"),)),
            ]
        )
        assert len(plans) == 2

    def test_a_source_is_planned_once(self) -> None:
        plans = plan_documents([source("l1"), source("l1")])
        assert len(plans) == 1 and len(plans[0].lines) == 1

    def test_fulfillments_and_lines_share_an_invoice(self) -> None:
        plans = plan_documents([source("l1"), source("f1", source_type=SourceType.FULFILLMENT)])
        assert len(plans) == 1 and len(plans[0].lines) == 2


class TestDueDates:
    def test_payment_terms(self) -> None:
        assert payment_term_days("Due Upon Receipt") == 0
        assert payment_term_days("Net 60") == 60
        assert payment_term_days("Net 15") == 15
        assert payment_term_days(None) == 30
        assert payment_term_days("Whenever") == 0
        assert due_date(DAY, "Net 30") == dt.date(2021, 3, 3)
