"""`expand[]` for every object the dialect serves: which paths each object accepts, and one walker that expands them.

Stripe marks two kinds of expandable fields (the `anyOf [string, object]` fields of its OpenAPI schemas, and the
"includable" fields left out unless expanded, such as a customer's `tax_ids` and `subscriptions`). `FIELDS` names them
per object type, with the type they expand to; a path may pass through fields that are not expansions
(`lines.data.taxes.tax_rate_details.tax_rate`). `allowed(kind)` is every path one expansion deep plus one more inside
it (`tax_ids.data.customer`, `customer.test_clock`), as Stripe accepts them; anything else stays a 400.

Routes check `expand[]` against `allowed(kind)` and may expand what they already know how to; `expand_body` then
replaces every id still left on a requested path by the object (loaded by the loader registered for its type) and
adds every includable field still missing (by the includer registered for it). The loaders live with the routers
(api/stripe/expanders.py registers them): the edge knows none of its routers.

Fields of payments and Connect (`default_source`, `default_payment_method`, `application`, `on_behalf_of`, …) are not
listed, so expanding them is refused, except the four an invoice has always accepted (and always shows null).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from bulkbill.core.errors import NotFound
from bulkbill.services.platform.uow import UnitOfWork

Loader = Callable[[UnitOfWork, str], dict[str, Any]]
Includer = Callable[[UnitOfWork, dict[str, Any]], Any]
# A target "list:kind" is an includable list object of that kind; "" is a field with nothing behind it to load
# (an includable sub-object, or a payments field that is always null).
_LIST = "list:"
_LINE_ITEM = {
    "discounts": "discount",
    "discount_amounts.discount": "discount",
    "pretax_credit_amounts.discount": "discount",
    "pricing.price_details.price": "price",
    "subscription": "subscription",
    "taxes.tax_rate_details.tax_rate": "tax_rate",
}
_CREDIT_NOTE_LINE = {
    "discount_amounts.discount": "discount",
    "tax_amounts.tax_rate": "tax_rate",
    "taxes.tax_rate_details.tax_rate": "tax_rate",
}


def _inside(prefix: str, fields: dict[str, str]) -> dict[str, str]:
    return {prefix + name: target for name, target in fields.items()}


FIELDS: dict[str, dict[str, str]] = {
    "customer": {
        "discount.customer": "customer",
        "discount.promotion_code": "promotion_code",
        "discount.source.coupon": "coupon",
        "subscriptions": _LIST + "subscription",
        "tax": "",
        "tax_ids": _LIST + "tax_id",
        "test_clock": "test_clock",
    },
    "tax_id": {"customer": "customer", "owner.customer": "customer"},
    "subscription": {
        "customer": "customer",
        "discounts": "discount",
        "items.data.discounts": "discount",
        "items.data.price.product": "product",
        "latest_invoice": "invoice",
        "test_clock": "test_clock",
    },
    "subscription_item": {"discounts": "discount", "price.product": "product"},
    "invoice": {
        "account_tax_ids": "tax_id",
        "application": "",
        "customer": "customer",
        "default_payment_method": "",
        "default_source": "",
        "discounts": "discount",
        "from_invoice.invoice": "invoice",
        "latest_revision": "invoice",
        "on_behalf_of": "",
        "parent.subscription_details.subscription": "subscription",
        "test_clock": "test_clock",
        "total_discount_amounts.discount": "discount",
        "total_pretax_credit_amounts.discount": "discount",
        "total_taxes.tax_rate_details.tax_rate": "tax_rate",
        **_inside("lines.data.", _LINE_ITEM),
    },
    "line_item": _LINE_ITEM,
    "invoiceitem": {
        "customer": "customer",
        "discounts": "discount",
        "invoice": "invoice",
        "pricing.price_details.price": "price",
        "proration_details.discount_amounts.discount": "discount",
        "test_clock": "test_clock",
    },
    "discount": {"customer": "customer", "promotion_code": "promotion_code", "source.coupon": "coupon"},
    "price": {"currency_options": "", "product": "product", "tiers": ""},
    "product": {"default_price": "price"},
    "coupon": {"applies_to": "", "currency_options": ""},
    "promotion_code": {"customer": "customer", "promotion.coupon": "coupon"},
    "credit_note": {
        "customer": "customer",
        "customer_balance_transaction": "customer_balance_transaction",
        "discount_amounts.discount": "discount",
        "invoice": "invoice",
        "tax_amounts.tax_rate": "tax_rate",
        "total_taxes.tax_rate_details.tax_rate": "tax_rate",
        **_inside("lines.data.", _CREDIT_NOTE_LINE),
    },
    "credit_note_line_item": _CREDIT_NOTE_LINE,
    "customer_balance_transaction": {"credit_note": "credit_note", "customer": "customer", "invoice": "invoice"},
    "tax_rate": {},
    "test_helpers.test_clock": {},
}
# The object type a target names (test clocks are `test_helpers.test_clock` objects).
_KIND = {"test_clock": "test_helpers.test_clock"}
_LOADERS: dict[str, Loader] = {}
_INCLUDERS: dict[tuple[str, str], Includer] = {}


def register_loader(target: str, loader: Loader) -> None:
    """How an id of `target` becomes its object (api/stripe/expanders.py registers one per type)."""
    _LOADERS[target] = loader


def register_includer(kind: str, field: str, includer: Includer) -> None:
    """How an includable field of a rendered `kind` object is made when a path asks for it."""
    _INCLUDERS[(kind, field)] = includer


def _kind(target: str) -> str:
    name = target.removeprefix(_LIST)
    return _KIND.get(name, name)


def _through(field: str, target: str) -> str:
    """The prefix of the paths inside an expanded field: an includable list's objects are under `data`."""
    return field + (".data." if target.startswith(_LIST) else ".")


@cache
def allowed(kind: str) -> tuple[str, ...]:
    """Every path `expand[]` accepts on a `kind` object: its expandable fields, and theirs one level further."""
    paths: list[str] = []
    for field, target in FIELDS[kind].items():
        paths.append(field)
        if target:
            paths.extend(_through(field, target) + inner for inner in FIELDS[_kind(target)])
    return tuple(paths)


def listed(kind: str) -> tuple[str, ...]:
    """The paths a list of `kind` objects accepts (`data.` + each)."""
    return tuple(f"data.{path}" for path in allowed(kind))


def expand_body(uow: UnitOfWork, body: dict[str, Any], paths: Iterable[str]) -> None:
    """Expand, in a rendered response, every requested path its route left as ids (lists: `data.…`)."""
    wanted = sorted({p for p in paths if p}, key=lambda p: (p.count("."), p))
    if not wanted or body.get("deleted") is True:
        return
    if body.get("object") in ("list", "search_result"):
        items = [x for x in body.get("data") or [] if isinstance(x, dict)]
        inner = [p.removeprefix("data.") for p in wanted if p.startswith("data.")]
        for item in items:
            _expand_object(uow, item, inner)
        return
    _expand_object(uow, body, wanted)


def _expand_object(uow: UnitOfWork, node: dict[str, Any], paths: list[str]) -> None:
    kind = node.get("object")
    if not isinstance(kind, str) or kind not in FIELDS:
        return
    for path in paths:
        _expand_path(uow, kind, [node], path.split("."))


def _expand_path(uow: UnitOfWork, kind: str, nodes: list[dict[str, Any]], segments: list[str]) -> None:
    # The longest field of `kind` the path starts with; its rest, if any, is inside the expanded object.
    match = max((f for f in FIELDS[kind] if segments[: f.count(".") + 1] == f.split(".")), key=len, default=None)
    if match is None:
        return
    target = FIELDS[kind][match]
    field_segments = match.split(".")
    rest = segments[len(field_segments) :]
    for holder in _holders(nodes, field_segments[:-1]):
        key = field_segments[-1]
        if key not in holder:
            includer = _INCLUDERS.get((kind, key))
            if includer is None:
                continue
            holder[key] = includer(uow, holder)
        elif target:
            holder[key] = _resolved(uow, target, holder[key])
        if rest and target:
            value = holder[key]
            if target.startswith(_LIST):
                inner = [x for x in (value or {}).get("data") or [] if isinstance(x, dict)]
                rest_inner = rest[1:] if rest[:1] == ["data"] else rest
            else:
                inner = [x for x in (value if isinstance(value, list) else [value]) if isinstance(x, dict)]
                rest_inner = rest
            if inner and rest_inner:
                _expand_path(uow, _kind(target), inner, rest_inner)


def _holders(nodes: list[dict[str, Any]], segments: list[str]) -> list[dict[str, Any]]:
    """The objects holding a field, following `segments` through sub-objects, arrays and list objects."""
    current = nodes
    for segment in segments:
        following: list[dict[str, Any]] = []
        for node in current:
            value = node.get(segment)
            for x in value if isinstance(value, list) else [value]:
                if isinstance(x, dict):
                    following.append(x)
        current = following
    return current


def _resolved(uow: UnitOfWork, target: str, value: Any) -> Any:
    """An id (or a list of ids) replaced by its object; objects and nulls stay as they are."""
    loader = _LOADERS.get(target.removeprefix(_LIST))
    if loader is None:
        return value
    if isinstance(value, list):
        return [_loaded(uow, loader, x) for x in value]
    return _loaded(uow, loader, value)


def _loaded(uow: UnitOfWork, loader: Loader, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return loader(uow, value)
    except NotFound:
        # An id of nothing that exists now (a preview's objects are rolled back before the answer is
        # expanded): shown as the id, rather than failing the whole response.
        return value
