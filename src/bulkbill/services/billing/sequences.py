"""Per-tenant numbers (A00000001, INV00000001, CM00000001, O-00000001, ...) and customers' Stripe numbers.

A number can also be chosen by hand (Zuora `invoiceNumber`, `accountNumber`, `orderNumber`) and
lands in the same unique column as the generated ones. So a generator skips the numbers already
taken (README "Decisions": chosen numbers and gapless sequences), and a chosen number is checked
and written while holding the lock of every generator that could make it. Either side then sees
the other's committed number: no chosen number can block a sequence, and neither side ends on the
other's unique index with a 409 that a retry would meet again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bulkbill.core.invoicing.lifecycle import invoice_number
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.tables import Customer, Invoice
from bulkbill.storage.tables import Sequence as SequenceRow
from bulkbill.storage.tables_orders import BillRun, Fulfillment, Order

_CHECK_CHUNK = 500  # numbers per IN (...) when looking for taken ones: well under both databases' limits


@dataclass(frozen=True)
class NumberSequence:
    """A tenant's counter (one `sequences` row), the prefixes it formats and the unique column it fills."""

    name: str
    prefixes: tuple[str, ...]
    column: Any  # the mapped column the numbers live in, unique per tenant
    width: int = 8

    def could_make(self, number: str) -> bool:
        """True when this sequence formats (or will format) exactly this string."""
        return any(re.fullmatch(re.escape(p) + f"[0-9]{{{self.width},}}", number) for p in self.prefixes)


INVOICES = NumberSequence("invoice", ("INV",), Invoice.number)
CREDIT_MEMOS = NumberSequence("credit_memo", ("CM",), Invoice.number)
# Zuora numbers its documents per kind: the sequence each document type takes its numbers from.
DOCUMENT_SEQUENCES = {"invoice": INVOICES, "credit_memo": CREDIT_MEMOS}
ACCOUNTS = NumberSequence("account", ("A",), Customer.account_number)
ORDERS = NumberSequence("order", ("O-", "RMA-"), Order.order_number)
FULFILLMENTS = NumberSequence("fulfillment", ("F-",), Fulfillment.fulfillment_number)
BILL_RUNS = NumberSequence("bill_run", ("BR-",), BillRun.bill_run_number)


def _ensure_row(uow: UnitOfWork, name: str) -> None:
    insert = pg_insert if uow.is_postgres else sqlite_insert
    uow.session.execute(
        insert(SequenceRow).values(tenant_id=uow.tenant_id, name=name, next_value=1).on_conflict_do_nothing()
    )


def _take_values(uow: UnitOfWork, name: str, count: int) -> range:
    """The next `count` values of a counter, in one statement whatever the count.

    An upsert: the counter's first use creates its row, every later one moves it on. The update
    takes the row lock (PostgreSQL) inside the write transaction (SQLite: BEGIN IMMEDIATE), and
    rolls back with it, so no value is skipped or given twice.
    """
    statement = _TAKE_VALUES["postgresql" if uow.is_postgres else "sqlite"]
    values = {"tenant_id": uow.tenant_id, "name": name, "first": 1 + count, "count": count}
    after = uow.session.scalar(statement, values)
    assert after is not None
    return range(int(after) - count, int(after))


def _take_values_statement(insert: Any) -> Any:
    return (
        insert(SequenceRow)
        .values(tenant_id=bindparam("tenant_id"), name=bindparam("name"), next_value=bindparam("first"))
        .on_conflict_do_update(
            index_elements=[SequenceRow.tenant_id, SequenceRow.name],
            set_={"next_value": SequenceRow.next_value + bindparam("count")},
        )
        .returning(SequenceRow.next_value)
    )


# Built once per database (statements cost more to build than to run on the numbering paths).
_TAKE_VALUES = {"postgresql": _take_values_statement(pg_insert), "sqlite": _take_values_statement(sqlite_insert)}
_TAKEN: dict[Any, Any] = {}


def taken_numbers(uow: UnitOfWork, column: Any, numbers: Sequence[str]) -> set[str]:
    """Which of `numbers` this tenant already uses in `column` (one indexed query per 500)."""
    statement = _TAKEN.get(column)
    if statement is None:
        table = column.class_
        statement = _TAKEN[column] = select(column).where(
            table.tenant_id == bindparam("tenant_id"), column.in_(bindparam("numbers", expanding=True))
        )
    found: set[str] = set()
    for i in range(0, len(numbers), _CHECK_CHUNK):
        chunk = list(numbers[i : i + _CHECK_CHUNK])
        found.update(uow.session.scalars(statement, {"tenant_id": uow.tenant_id, "numbers": chunk}))
    return found


def take_numbers(uow: UnitOfWork, sequence: NumberSequence, count: int, prefix: str | None = None) -> list[str]:
    """`count` new numbers in order, skipping any already taken by hand.

    Gapless means: every value the counter passes is used by exactly one row, made by the
    sequence or chosen by hand. A number taken by hand is skipped once, when the counter reaches it.
    """
    prefix = prefix if prefix is not None else sequence.prefixes[0]
    assert prefix in sequence.prefixes
    numbers: list[str] = []
    while len(numbers) < count:
        batch = [f"{prefix}{v:0{sequence.width}d}" for v in _take_values(uow, sequence.name, count - len(numbers))]
        taken = taken_numbers(uow, sequence.column, batch)
        numbers.extend(n for n in batch if n not in taken)
    return numbers


def take_number(uow: UnitOfWork, sequence: NumberSequence, prefix: str | None = None) -> str:
    """One new number (INV00000001, O-00000001, RMA-00000002, ...), skipping any taken by hand."""
    return take_numbers(uow, sequence, 1, prefix)[0]


def chosen_number_taken(uow: UnitOfWork, number: str, sequences: Sequence[NumberSequence]) -> bool:
    """Whether a number chosen by hand is used, asked while holding each sequence that could generate it.

    A generator holds its sequence row until it commits; holding it here orders the two, and
    whichever comes second sees the first's number (taken: refused, or skipped). The caller
    writes the chosen number in the same transaction. `sequences` share one column.
    """
    for sequence in sequences:
        if sequence.could_make(number):
            _ensure_row(uow, sequence.name)
            if uow.is_postgres:  # SQLite: the write transaction already excludes every other writer
                uow.session.execute(
                    select(SequenceRow.name)
                    .where(SequenceRow.tenant_id == uow.tenant_id, SequenceRow.name == sequence.name)
                    .with_for_update()
                )
    return bool(taken_numbers(uow, sequences[0].column, [number]))


def chosen_invoice_number_taken(uow: UnitOfWork, number: str) -> bool:
    """As chosen_number_taken for a document number: an INV or CM number, or a customer's PREFIX-0001."""
    prefix, dash, digits = number.rpartition("-")
    if dash and re.fullmatch("[0-9]{4,}", digits) and uow.is_postgres:
        # The customer row is the lock of its Stripe sequence (finalize holds it while numbering).
        uow.session.execute(
            select(Customer.id)
            .where(Customer.tenant_id == uow.tenant_id, Customer.invoice_prefix == prefix)
            .with_for_update()
        )
    return chosen_number_taken(uow, number, (INVOICES, CREDIT_MEMOS))


def next_customer_number(uow: UnitOfWork, customer: Customer) -> str:
    """A Stripe-made invoice's number: the customer's prefix and counter, skipping numbers already taken.

    The caller holds the customer's row lock. Taken can mean chosen by hand in the Zuora dialect,
    or made under this prefix for another customer that held it before.
    """
    while True:
        number = invoice_number(customer.invoice_prefix, customer.next_invoice_sequence)
        customer.next_invoice_sequence += 1
        if not taken_numbers(uow, Invoice.number, [number]):
            return number
