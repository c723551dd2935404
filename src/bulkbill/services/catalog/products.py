"""Products: what a price is the price of (Stripe prod_); callers may choose the id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from bulkbill.core.catalog.products import statement_descriptor_problem
from bulkbill.core.errors import ErrorCode, InputCollector, NotFound, Path, RuleViolation
from bulkbill.core.events.types import EventObject, EventType
from bulkbill.core.metadata import Clear, MetadataUpdate, check_metadata, merge_metadata
from bulkbill.services.events.outbox import changing, emit
from bulkbill.services.platform.locks import get_row
from bulkbill.services.platform.pagination import Cursor, Page, paginate
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.ids import new_id
from bulkbill.storage.tables import Price, Product


@dataclass(frozen=True)
class ProductFields:
    """None leaves a field as it is; CLEAR (for the optional texts) sets it to null."""

    name: str | None = None
    description: str | Clear | None = None
    active: bool | None = None
    unit_label: str | Clear | None = None
    metadata: MetadataUpdate | None = None
    default_price: str | Clear | None = None  # update only: a price of this product
    type: str | None = None  # create only: good or service
    url: str | Clear | None = None
    shippable: bool | None = None
    # What bulkbill stores and shows but bills nothing by (it moves no goods and computes no Stripe Tax):
    # images, package_dimensions, statement_descriptor, tax_code, marketing_features, tax_details.
    details: Mapping[str, Any | Clear] | None = None


def _text(value: str | Clear | None) -> str | None:
    return None if isinstance(value, Clear) else value


def _details(current: Mapping[str, Any] | None, update: Mapping[str, Any | Clear] | None) -> dict[str, Any] | None:
    """The product's details with an update merged in: a CLEAR value removes its key."""
    merged = dict(current or {})
    for key, value in (update or {}).items():
        if isinstance(value, Clear) or value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged or None


def _check_details(fields: ProductFields, path: Path, errors: InputCollector) -> None:
    descriptor = (fields.details or {}).get("statement_descriptor")
    if isinstance(descriptor, str):
        problem = statement_descriptor_problem(descriptor)
        if problem is not None:
            errors.add((*path, "statement_descriptor"), ErrorCode.PARAMETER_INVALID, problem)


def create_product(
    uow: UnitOfWork, fields: ProductFields, *, product_id: str | None = None, path: Path = ()
) -> Product:
    """`path` prefixes error paths when the product is created inline (a price's product_data)."""
    errors = InputCollector()
    if not fields.name:
        errors.missing((*path, "name"))
    if product_id is not None and uow.session.get(Product, (uow.tenant_id, product_id)) is not None:
        errors.add((*path, "id"), ErrorCode.RESOURCE_ALREADY_EXISTS, "Product already exists.")
    check_metadata(fields.metadata, (*path, "metadata"), errors)
    metadata = merge_metadata({}, fields.metadata, (*path, "metadata"), errors)
    _check_details(fields, path, errors)
    errors.raise_if_any()
    product = Product(
        tenant_id=uow.tenant_id,
        id=product_id or new_id("prod_", 14),
        name=fields.name or "",
        description=_text(fields.description),
        active=True if fields.active is None else fields.active,
        default_price_id=None,
        unit_label=_text(fields.unit_label),
        type=fields.type or "service",
        url=_text(fields.url),
        shippable=fields.shippable,
        details=_details(None, fields.details),
        metadata_=metadata,
        created=uow.now,
        updated=uow.now,
        deleted=False,
    )
    uow.session.add(product)
    uow.session.flush()
    emit(uow, EventType.PRODUCT_CREATED, product.id)
    return product


def get_product(
    uow: UnitOfWork, product_id: str, *, include_deleted: bool = False, lock: Literal["update", "share"] | None = None
) -> Product:
    """A product; with `lock`, held until the transaction ends (see platform/locks.py)."""
    product = get_row(uow, Product, product_id, lock=lock)
    if product is None or (product.deleted and not include_deleted):
        raise NotFound("product", product_id)
    return product


def _default_price(uow: UnitOfWork, product: Product, price_id: str) -> str:
    price = uow.session.get(Price, (uow.tenant_id, price_id))
    if price is None:
        raise NotFound("price", price_id, path=("default_price",))
    if price.product_id != product.id:
        raise RuleViolation(
            f"The price {price_id} does not belong to the product {product.id}.", path=("default_price",)
        )
    return price.id


def update_product(uow: UnitOfWork, product_id: str, fields: ProductFields) -> Product:
    product = get_product(uow, product_id, lock="update")
    changing(uow, EventObject.PRODUCT, [product.id])
    errors = InputCollector()
    check_metadata(fields.metadata, ("metadata",), errors)
    product.metadata_ = merge_metadata(product.metadata_, fields.metadata, ("metadata",), errors)
    _check_details(fields, (), errors)
    errors.raise_if_any()
    if fields.name is not None:
        product.name = fields.name
    if fields.active is not None:
        product.active = fields.active
    if fields.description is not None:
        product.description = _text(fields.description)
    if fields.unit_label is not None:
        product.unit_label = _text(fields.unit_label)
    if fields.url is not None:
        product.url = _text(fields.url)
    if fields.shippable is not None:
        product.shippable = fields.shippable
    if fields.details:
        product.details = _details(product.details, fields.details)
    if isinstance(fields.default_price, Clear):
        product.default_price_id = None
    elif fields.default_price is not None:
        product.default_price_id = _default_price(uow, product, fields.default_price)
    product.updated = uow.now
    uow.session.flush()
    emit(uow, EventType.PRODUCT_UPDATED, product.id)
    return product


def delete_product(uow: UnitOfWork, product_id: str) -> Product:
    """As in Stripe, a product that has prices cannot be deleted (archive it with active=false).

    The product is locked before its prices are counted; a price being created holds it shared
    (create_price), so a deletion and a new price never both succeed.
    """
    product = get_product(uow, product_id, lock="update")
    changing(uow, EventObject.PRODUCT, [product.id])
    has_prices = uow.session.scalars(
        select(Price.id).where(Price.tenant_id == uow.tenant_id, Price.product_id == product.id).limit(1)
    ).first()
    if has_prices is not None:
        raise RuleViolation("This product cannot be deleted because it has one or more user-created prices.")
    product.deleted = True
    product.updated = uow.now
    uow.session.flush()
    emit(uow, EventType.PRODUCT_DELETED, product.id)
    return product


def list_products(
    uow: UnitOfWork,
    cursor: Cursor,
    *,
    active: bool | None = None,
    ids: Sequence[str] | None = None,
    type_: str | None = None,
    shippable: bool | None = None,
    url: str | None = None,
) -> Page[Product]:
    query = select(Product).where(Product.tenant_id == uow.tenant_id, Product.deleted.is_(False))
    if ids is not None:
        query = query.where(Product.id.in_(list(ids)))
    if type_ is not None:
        query = query.where(Product.type == type_)
    if active is not None:
        query = query.where(Product.active.is_(active))
    if shippable is not None:
        query = query.where(Product.shippable.is_(shippable))
    if url is not None:
        query = query.where(Product.url == url)
    return paginate(uow, query, Product, cursor)
