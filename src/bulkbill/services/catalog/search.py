"""Product and price search (Stripe's /v1/products/search, /v1/prices/search): the fields a query may name."""

from __future__ import annotations

from sqlalchemy import select

from bulkbill.core.search.query import Kind
from bulkbill.services.platform.search import SearchPage, SearchRequest, search
from bulkbill.services.platform.uow import UnitOfWork
from bulkbill.storage.search import SearchField
from bulkbill.storage.tables import Price, Product

PRODUCT_FIELDS = {
    "active": SearchField(Kind.BOOLEAN, Product.active),
    "description": SearchField(Kind.STRING, Product.description),
    "metadata": SearchField(Kind.METADATA, Product.metadata_),
    "name": SearchField(Kind.STRING, Product.name),
    "shippable": SearchField(Kind.BOOLEAN, Product.shippable),
    "url": SearchField(Kind.STRING, Product.url),
}

PRICE_FIELDS = {
    "active": SearchField(Kind.BOOLEAN, Price.active),
    "currency": SearchField(Kind.TOKEN, Price.currency),
    "lookup_key": SearchField(Kind.STRING, Price.lookup_key),
    "metadata": SearchField(Kind.METADATA, Price.metadata_),
    "product": SearchField(Kind.STRING, Price.product_id),
    "type": SearchField(Kind.STRING, Price.type),
}


def search_products(uow: UnitOfWork, request: SearchRequest) -> SearchPage[Product]:
    base = select(Product).where(Product.tenant_id == uow.tenant_id, Product.deleted.is_(False))
    return search(uow, base, Product, PRODUCT_FIELDS, "products", request)


def search_prices(uow: UnitOfWork, request: SearchRequest) -> SearchPage[Price]:
    base = select(Price).where(Price.tenant_id == uow.tenant_id)
    return search(uow, base, Price, PRICE_FIELDS, "prices", request)
