"""A customer's balance transactions: every move of its balance, recorded where the balance moves.

Made through the API (`adjustment`, told as customer.updated since the balance changed) and by bulkbill's own
moves (an invoice applying the balance at finalization: `applied_to_invoice`). The balance itself stays on the
customer; each transaction keeps the balance it left (`ending_balance`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from bulkbill.core.customers.balance import BalanceTransactionType, adjusted_balance, check_balance_currency
from bulkbill.core.errors import InputCollector, NotFound
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.metadata import MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.customers.customers import get_customer
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Customer, CustomerBalanceTransaction


def _new_row(
    uow: UnitOfWork,
    customer: Customer,
    type_: BalanceTransactionType,
    amount: int,
    currency: str,
    *,
    invoice_id: str | None = None,
    credit_note_id: str | None = None,
) -> CustomerBalanceTransaction:
    row = CustomerBalanceTransaction(
        tenant_id=uow.tenant_id,
        id=new_id("cbtxn_", 14),
        customer_id=customer.id,
        type=type_.value,
        amount=amount,
        currency=currency,
        ending_balance=customer.balance,
        description=None,
        metadata_={},
        invoice_id=invoice_id,
        credit_note_id=credit_note_id,
        created=uow.now,
    )
    uow.session.add(row)
    return row


def record_move(
    uow: UnitOfWork,
    customer: Customer,
    type_: BalanceTransactionType,
    before: int,
    currency: str,
    *,
    invoice_id: str | None = None,
    credit_note_id: str | None = None,
) -> CustomerBalanceTransaction | None:
    """The transaction of a move already made (the customer's balance went from `before` to what it is now)."""
    if customer.balance == before:
        return None
    amount = customer.balance - before
    return _new_row(uow, customer, type_, amount, currency, invoice_id=invoice_id, credit_note_id=credit_note_id)


def create_transaction(
    uow: UnitOfWork,
    customer_id: str,
    amount: int,
    currency: str,
    description: str | None,
    metadata: MetadataUpdate | None,
) -> CustomerBalanceTransaction:
    """A manual adjustment: the amount is added to the balance (negative: a credit for the next invoices)."""
    customer = get_customer(uow, customer_id, lock="update")
    errors = InputCollector()
    check_metadata(metadata, ("metadata",), errors)
    stored = merge_metadata({}, metadata, ("metadata",), errors)
    errors.raise_if_any()
    check_balance_currency(customer.currency, currency, ("currency",))
    changing(uow, EventObject.CUSTOMER, [customer.id])
    customer.balance = adjusted_balance(customer.balance, amount, ("amount",))
    customer.currency = currency  # a customer without a currency takes the transaction's (Stripe)
    row = _new_row(uow, customer, BalanceTransactionType.ADJUSTMENT, amount, currency)
    row.description = description
    row.metadata_ = stored
    uow.session.flush()
    emit(uow, EventType.CUSTOMER_UPDATED, customer.id)
    return row


def get_transaction(
    uow: UnitOfWork, customer_id: str, transaction_id: str, *, for_update: bool = False
) -> CustomerBalanceTransaction:
    get_customer(uow, customer_id)
    row = uow.session.get(CustomerBalanceTransaction, (uow.tenant_id, transaction_id), with_for_update=for_update)
    if row is None or row.customer_id != customer_id:
        raise NotFound("customer_balance_transaction", transaction_id)
    return row


def find_transaction(uow: UnitOfWork, transaction_id: str) -> CustomerBalanceTransaction:
    """A balance transaction by its id alone (what an expanded reference names)."""
    row = uow.session.get(CustomerBalanceTransaction, (uow.tenant_id, transaction_id))
    if row is None:
        raise NotFound("customer_balance_transaction", transaction_id)
    return row


def update_transaction(
    uow: UnitOfWork,
    customer_id: str,
    transaction_id: str,
    description: str | None,
    metadata: MetadataUpdate | None,
    *,
    description_given: bool,
) -> CustomerBalanceTransaction:
    """Only what describes a transaction changes (its amount is history)."""
    row = get_transaction(uow, customer_id, transaction_id, for_update=uow.is_postgres)
    errors = InputCollector()
    check_metadata(metadata, ("metadata",), errors)
    merged = merge_metadata(row.metadata_, metadata, ("metadata",), errors)
    errors.raise_if_any()
    if description_given:
        row.description = description
    if row.metadata_ != merged:
        row.metadata_ = merged
    uow.session.flush()
    return row


def list_transactions(
    uow: UnitOfWork, customer_id: str, cursor: Cursor, *, invoice: str | None = None
) -> Page[CustomerBalanceTransaction]:
    get_customer(uow, customer_id)
    query = select(CustomerBalanceTransaction).where(
        CustomerBalanceTransaction.tenant_id == uow.tenant_id, CustomerBalanceTransaction.customer_id == customer_id
    )
    if invoice is not None:
        query = query.where(CustomerBalanceTransaction.invoice_id == invoice)
    return paginate(uow, query, CustomerBalanceTransaction, cursor)


def credit_note_transactions(uow: UnitOfWork, note_ids: Collection[str]) -> dict[str, str]:
    """The balance transaction each credit note's `credit_amount` made, by credit note (its void's is another)."""
    if not note_ids:
        return {}
    rows = uow.session.execute(
        select(CustomerBalanceTransaction.credit_note_id, CustomerBalanceTransaction.id)
        .where(
            CustomerBalanceTransaction.tenant_id == uow.tenant_id,
            CustomerBalanceTransaction.credit_note_id.in_(note_ids),
            CustomerBalanceTransaction.amount < 0,  # the credit; a void gives it back with a positive one
        )
        .order_by(CustomerBalanceTransaction.created, CustomerBalanceTransaction.id)
    ).all()
    made: dict[str, str] = {}
    for note_id, transaction_id in rows:
        if note_id is not None:  # the query asked for credit notes' moves only
            made.setdefault(note_id, transaction_id)
    return made
