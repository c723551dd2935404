"""The Stripe parameters bulkbill refuses by design: it moves no money.

bulkbill bills; it charges nothing, holds no balance of cash and pays nobody out. Every Stripe
parameter that only makes sense when money moves (payment methods, sources, cash balances,
mandates, Connect's fees, transfers and accounts, another account as issuer) answers one 400 that
names the parameter and says why, on every route, at any depth (`invoice_settings[default_payment_method]`
too): `params.Obj` looks a parameter it does not know up here before calling it unknown.
`automatic_tax` (Stripe Tax computes and remits tax on payments) is accepted with `enabled=false` only:
see `params.AUTOMATIC_TAX`.

This is the documented list the coverage test (tests/sdk/stripe/test_parameter_coverage.py) and
`bulkbill.devtools.stripe_coverage` count as refused by design; README's "Not supported" names it.
"""

from __future__ import annotations

from bulkbill.api.stripe.edge.errors import stripe_param
from bulkbill.core.errors import ErrorCode, FieldError, Path

_PAYMENTS = "payment methods and sources"
_CONNECT = "Connect"
# Parameter name → what it belongs to (the refusal says it).
MOVES_MONEY: dict[str, str] = {
    "payment_method": _PAYMENTS,
    "payment_method_types": _PAYMENTS,
    "source": _PAYMENTS,
    "default_payment_method": _PAYMENTS,
    "default_source": _PAYMENTS,
    "payment_settings": _PAYMENTS,
    "mandate": _PAYMENTS,
    "off_session": _PAYMENTS,
    "forgive": _PAYMENTS,
    # A credit note's refunds pay money back (refund_amount 0 is accepted: params.Zero).
    "refunds": "refunds",
    "refund_amount": "refunds",
    "cash_balance": "cash balances",
    "application_fee_amount": _CONNECT,
    "application_fee_percent": _CONNECT,
    "on_behalf_of": _CONNECT,
    "transfer_data": _CONNECT,
    "issuer": _CONNECT,
    "liability": _CONNECT,
    "customer_account": "Connect accounts (Accounts v2)",
}


def money_refusal(path: Path) -> FieldError | None:
    """The refusal of a parameter on the list (by its last name), or None when it is not one."""
    name = path[-1] if path else ""
    what = MOVES_MONEY.get(str(name))
    if what is None:
        return None
    return FieldError(
        path,
        ErrorCode.PARAMETER_UNSUPPORTED,
        f"`{stripe_param(path)}` is not supported: bulkbill moves no money, so it refuses {what} by design. "
        "Record a payment made elsewhere with POST /v1/invoices/{id}/pay and paid_out_of_band=true.",
    )
