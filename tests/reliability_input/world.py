"""One tenant populated through both dialects with one object of every kind, and a row fingerprint.

`build_world` makes, through the public API only, a customer/account, catalog objects, Stripe
invoices (draft and finalized) with lines, a pending invoice item, a subscription on a test clock,
Zuora orders (sales and return lines), a fulfillment with items, a standalone invoice, a generated
invoice and credit memo, a bill run and an accounting period. Every text field carries `marker`, so a
response that leaks any of it is easy to spot. `fingerprint` hashes every row a tenant owns.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from bulkbill.services.platform.tenants import NewTenant
from bulkbill.storage.tables import Base
from tests.helpers import StripeClient, ZuoraClient

# Rows every call may legitimately add whatever its outcome: Zuora replays a failed call's response
# for its Idempotency-Key (README), and tokens are what POST /oauth/token is for.
REPLAY_TABLES = frozenset({"idempotency_keys", "oauth_tokens"})


# (collection, path parameter) → the kind of object; the collection is the path segment before it.
KINDS = {
    ("customers", "customer_id"): "customer",
    ("tax_ids", "tax_id"): "tax_id",
    ("products", "product_id"): "product",
    ("prices", "price_id"): "price",
    ("tax_rates", "tax_rate_id"): "tax_rate",
    ("coupons", "coupon_id"): "coupon",
    ("invoices", "invoice_id"): "invoice",
    ("lines", "line_id"): "line",
    ("invoiceitems", "item_id"): "invoice_item",
    ("subscriptions", "subscription_id"): "subscription",
    ("subscription_items", "item_id"): "subscription_item",
    ("subscription_schedules", "schedule_id"): "subscription_schedule",
    ("test_clocks", "clock_id"): "test_clock",
    ("meters", "meter_id"): "meter",
    ("bill-runs", "bill_run_id"): "bill_run",
    ("fulfillment-items", "item_id"): "fulfillment_item",
    ("fulfillments", "key"): "fulfillment",
    ("order-line-items", "item_id"): "order_line_item",
    ("orders", "order_number"): "order",
    ("accounts", "account_key"): "account",
    ("accounting-periods", "period_id"): "accounting_period",
    ("invoices", "invoice_key"): "document_invoice",
    ("credit-memos", "memo_key"): "credit_memo",
    ("credit-memos", "credit_memo_key"): "credit_memo",
    ("files", "file_id"): "file",
    # The public document pages: the token is the credential (no tenant key); see PUBLIC_BY_TOKEN.
    ("documents", "token"): "document_token",
    ("creditmemos", "memo_key"): "credit_memo",
    ("creditmemos", "credit_memo_key"): "credit_memo",
    ("events", "event_id"): "event",
    ("webhook_endpoints", "endpoint_id"): "webhook_endpoint",
    ("credit_notes", "credit_note_id"): "credit_note",
    ("promotion_codes", "promo_id"): "promotion_code",
    ("balance_transactions", "transaction_id"): "balance_transaction",
    ("features", "feature_id"): "feature",
    ("features", "attachment_id"): "product_feature",
    ("active_entitlements", "entitlement_id"): "active_entitlement",
}


@dataclass
class World:
    """The keys (ids and numbers) of one tenant's objects, by kind, and every string they must not leak."""

    tenant: NewTenant
    marker: str
    keys: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, *keys: Any) -> None:
        self.keys.setdefault(kind, []).extend(str(k) for k in keys if k)

    def first(self, kind: str) -> str:
        return self.keys[kind][0]

    def secrets(self) -> set[str]:
        """Strings of this tenant that another tenant must never see."""
        out = {self.marker, self.tenant.id, self.tenant.zuora_client_id, self.tenant.stripe_secret_key}
        for keys in self.keys.values():
            # Zuora numbers (A00000001, INV00000001) are per tenant and repeat across tenants: only ids count.
            out.update(k for k in keys if len(k) >= 14)
        return out


def build_world(client: TestClient, tenant: NewTenant, zuora: ZuoraClient) -> World:
    stripe = StripeClient(client, tenant.stripe_secret_key)
    world = World(tenant, "mk" + uuid.uuid4().hex[:12])
    _stripe_objects(stripe, world)
    _zuora_objects(zuora, world)
    return world


def _stripe_objects(stripe: StripeClient, world: World) -> None:
    m = world.marker
    clock = stripe.ok("POST", "/v1/test_helpers/test_clocks", {"frozen_time": 1735689600, "name": m})
    customer = stripe.ok(
        "POST",
        "/v1/customers",
        {"name": f"Ada {m}", "email": f"{m}@example.com", "tax_id_data": [{"type": "eu_vat", "value": f"DE{m}"}]},
    )
    clocked = stripe.ok("POST", "/v1/customers", {"name": f"Clocked {m}", "test_clock": clock["id"]})
    product = stripe.ok("POST", "/v1/products", {"name": f"Widget {m}"})
    price = stripe.ok("POST", "/v1/prices", {"currency": "usd", "unit_amount": 1500, "product": product["id"]})
    recurring = stripe.ok(
        "POST",
        "/v1/prices",
        {"currency": "usd", "unit_amount": 900, "product": product["id"], "recurring": {"interval": "month"}},
    )
    tax = stripe.ok("POST", "/v1/tax_rates", {"display_name": f"VAT {m}", "percentage": "20", "inclusive": "false"})
    coupon = stripe.ok("POST", "/v1/coupons", {"percent_off": "10", "duration": "once", "name": m})
    draft = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"], "description": m})
    draft = stripe.ok(
        "POST",
        f"/v1/invoices/{draft['id']}/add_lines",
        {"lines": [{"amount": 7500, "description": f"Setup {m}"}, {"pricing": {"price": price["id"]}}]},
    )
    final = stripe.ok("POST", "/v1/invoices", {"customer": customer["id"]})
    stripe.ok("POST", f"/v1/invoices/{final['id']}/add_lines", {"lines": [{"amount": 100, "description": m}]})
    stripe.ok("POST", f"/v1/invoices/{final['id']}/finalize")
    note = stripe.ok("POST", "/v1/credit_notes", {"invoice": final["id"], "amount": 40, "memo": m})
    promo = stripe.ok(
        "POST", "/v1/promotion_codes", {"promotion": {"type": "coupon", "coupon": coupon["id"]}, "code": m}
    )
    pending = stripe.ok("POST", "/v1/invoiceitems", {"customer": customer["id"], "amount": 300, "description": m})
    sub = stripe.ok(
        "POST",
        "/v1/subscriptions",
        {"customer": clocked["id"], "items": [{"price": recurring["id"]}], "description": m},
    )
    schedule = stripe.ok(
        "POST",
        "/v1/subscription_schedules",
        {"customer": clocked["id"], "start_date": 1738368000, "phases": [{"items": [{"price": recurring["id"]}]}]},
    )
    world.add("subscription_schedule", schedule["id"])
    world.add("customer", customer["id"], clocked["id"])
    tax_ids = stripe.ok("GET", f"/v1/customers/{customer['id']}/tax_ids")["data"]
    world.add("tax_id", *(t["id"] for t in tax_ids))
    adjustment = stripe.ok(
        "POST",
        f"/v1/customers/{customer['id']}/balance_transactions",
        {"amount": -500, "currency": "usd", "description": m},
    )
    world.add("balance_transaction", adjustment["id"])
    world.add("product", product["id"])
    world.add("price", price["id"], recurring["id"])
    world.add("tax_rate", tax["id"])
    world.add("coupon", coupon["id"])
    world.add("invoice", draft["id"], final["id"], sub["latest_invoice"])
    world.add("line", *(line["id"] for line in draft["lines"]["data"]))
    world.add("invoice_item", pending["id"])
    world.add("subscription", sub["id"])
    world.add("subscription_item", *(item["id"] for item in sub["items"]["data"]))
    world.add("test_clock", clock["id"])
    meter = stripe.ok(
        "POST",
        "/v1/billing/meters",
        {"display_name": m, "event_name": f"calls_{m}", "default_aggregation": {"formula": "sum"}},
    )
    world.add("meter", meter["id"])
    hook = stripe.ok("POST", "/v1/webhook_endpoints", {"url": f"http://127.0.0.1:9/{m}", "enabled_events": ["*"]})
    world.add("webhook_endpoint", hook["id"])
    world.add("event", *(e["id"] for e in stripe.ok("GET", "/v1/events", {"limit": 3})["data"]))
    world.add("credit_note", note["id"])
    world.add("promotion_code", promo["id"])
    own_tax_id = stripe.ok("POST", "/v1/tax_ids", {"type": "eu_vat", "value": f"DE{m}"})
    world.add("tax_id", own_tax_id["id"])
    feature = stripe.ok("POST", "/v1/entitlements/features", {"lookup_key": m, "name": m})
    attached = stripe.ok("POST", f"/v1/products/{product['id']}/features", {"entitlement_feature": feature["id"]})
    world.add("feature", feature["id"])
    world.add("product_feature", attached["id"])
    held = stripe.ok("GET", "/v1/entitlements/active_entitlements", {"customer": clocked["id"]})["data"]
    world.add("active_entitlement", *(e["id"] for e in held))


def _zuora_objects(zuora: ZuoraClient, world: World) -> None:
    m = world.marker
    contact = {"firstName": "Ada", "lastName": m, "workEmail": f"{m}@example.com"}
    account = zuora.ok("POST", "/v1/accounts", {"name": f"Acme {m}", "currency": "USD", "billToContact": contact})
    number = account["accountNumber"]
    sale = {"itemName": f"Widget {m}", "itemType": "Product", "quantity": 10, "amountPerUnit": 10}
    order = zuora.ok(
        "POST",
        "/v1/orders",
        {
            "orderDate": "2021-01-01",
            "existingAccountNumber": number,
            "description": m,
            "orderLineItems": [
                {**sale, "itemState": "SentToBilling", "billTargetDate": "2021-01-01"},
                {**sale, "itemState": "Booked", "billingRule": "TriggerAsFulfillmentOccurs"},
                {**sale, "itemState": "Executing"},
            ],
            "processingOptions": {"runBilling": True, "billingOptions": {"targetDate": "2021-01-01"}},
        },
        params={"returnIds": "true"},
    )
    billed, booked, executing = (line["id"] for line in order["orderLineItems"])
    returned = zuora.ok(
        "POST",
        "/v1/orders",
        {
            "orderDate": "2021-02-01",
            "existingAccountNumber": number,
            "category": "Return",
            "orderLineItems": [
                {
                    "itemCategory": "Return",
                    "itemName": f"Back {m}",
                    "quantity": 1,
                    "itemState": "SentToBilling",
                    "billTargetDate": "2021-02-01",
                    "originalOrderNumber": order["orderNumber"],
                    "originalOrderLineItemNumber": "1",
                }
            ],
            "processingOptions": {"runBilling": True, "billingOptions": {"targetDate": "2021-02-01"}},
        },
        params={"returnIds": "true"},
    )
    fulfilled = zuora.ok(
        "POST",
        "/v1/fulfillments",
        {
            "fulfillments": [
                {
                    "orderLineItemId": booked,
                    "fulfillmentDate": "2021-01-05",
                    "quantity": 1,
                    "state": "Booked",
                    "description": m,
                    "fulfillmentItems": [{"description": m, "itemIdentifier": "SN-1"}],
                }
            ]
        },
    )["fulfillments"][0]
    standalone = zuora.ok(
        "POST",
        "/v1/invoices",
        {
            "accountId": account["accountId"],
            "invoiceDate": "2024-07-11",
            "comments": m,
            "invoiceItems": [{"chargeName": m, "amount": 100, "serviceStartDate": "2024-07-01"}],
        },
    )
    bill_run = zuora.request(
        "POST",
        "/v1/bill-runs",
        {
            "targetDate": "2021-03-01",
            "name": m,
            "billRunFilters": [{"filterType": "Account", "accountId": account["accountId"]}],
        },
    ).json()  # TEMP
    period = zuora.ok(
        "POST",
        "/v1/accounting-periods",
        {"name": m, "startDate": "2030-01-01", "endDate": "2030-01-31", "fiscalYear": 2030},
    )
    world.add("account", account["accountId"], number)
    world.add("order", order["orderNumber"], returned["orderNumber"])
    world.add("order_line_item", billed, booked, executing, *(line["id"] for line in returned["orderLineItems"]))
    world.add("fulfillment", fulfilled["id"], fulfilled["fulfillmentNumber"])
    world.add("fulfillment_item", *(item["id"] for item in fulfilled["fulfillmentItems"]))
    world.add(
        "document_invoice",
        standalone["id"],
        standalone["invoiceNumber"],
        *order["invoiceIds"],
        *order["invoiceNumbers"],
    )
    world.add("credit_memo", *returned["creditMemoIds"], *returned["creditMemoNumbers"])
    posted = zuora.ok(
        "POST",
        "/v1/invoices",
        {
            "accountId": account["accountId"],
            "invoiceDate": "2024-07-11",
            "status": "Posted",
            "invoiceItems": [{"chargeName": m, "amount": 100, "serviceStartDate": "2024-07-01"}],
        },
    )
    world.add("document_invoice", posted["id"])
    world.add("file", *(f["id"] for f in zuora.ok("GET", f"/v1/invoices/{posted['id']}/files")["invoiceFiles"]))
    world.add("bill_run", bill_run.get("id") or "f" * 32, bill_run.get("billRunNumber"))
    world.add("accounting_period", period["id"])


def tenant_tables() -> list[Any]:
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]


def fingerprint(client: TestClient, tenant_id: str, *, skip: frozenset[str] = REPLAY_TABLES) -> dict[str, str]:
    """A digest of every row the tenant owns, per table (its tenants row included).

    Read with prebuilt SQL on the raw driver connection: it runs once per generated case.
    """
    state = client.app.state.bulkbill  # type: ignore[attr-defined]
    out: dict[str, str] = {}
    with state.engine.connect() as connection:
        cursor = connection.connection.cursor()
        try:
            if state.engine.dialect.name == "postgresql":  # one round trip: each table digested in the server
                names = [n for n, _ in _statements("format") if n not in skip]
                cursor.execute(_pg_statement(tuple(names)), {"t": tenant_id})
                out = dict(zip(names, cursor.fetchone(), strict=True))
            else:
                for name, sql in _statements(state.engine.dialect.paramstyle):
                    if name in skip:
                        continue
                    cursor.execute(sql, (tenant_id,))
                    rows = cursor.fetchall()
                    out[name] = hashlib.sha256(repr(rows).encode()).hexdigest() + f":{len(rows)}"
        finally:
            cursor.close()
        connection.rollback()
    return out


_STATEMENTS: dict[str, list[tuple[str, str]]] = {}


@functools.cache
def _pg_statement(names: tuple[str, ...]) -> str:
    orders = {"tenants": "id"} | {
        t.name: ", ".join(c.name for c in (list(t.primary_key.columns) or list(t.c))) for t in tenant_tables()
    }
    parts = []
    for name in names:
        key = "id" if name == "tenants" else "tenant_id"
        parts.append(
            f"(SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY {orders[name]})), '')"
            f" FROM {name} r WHERE r.{key} = %(t)s)"
        )
    return "SELECT " + ", ".join(parts)


def _statements(paramstyle: str) -> list[tuple[str, str]]:
    if paramstyle not in _STATEMENTS:
        mark = "?" if paramstyle == "qmark" else "%s"
        statements = [("tenants", f"SELECT * FROM tenants WHERE id = {mark}")]
        for table in tenant_tables():
            order = ", ".join(c.name for c in (list(table.primary_key.columns) or list(table.c)))
            statements.append((table.name, f"SELECT * FROM {table.name} WHERE tenant_id = {mark} ORDER BY {order}"))
        _STATEMENTS[paramstyle] = statements
    return _STATEMENTS[paramstyle]


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def fuzz_settings(examples: int, *, derandomize: bool) -> Any:
    """Hypothesis settings of the fuzz tests: a fixed number of cases, no deadline, no example database."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
    )


class CaseLedger:
    """A fuzzer's generated cases: counted, and each refused one checked to have written nothing.

    The fingerprint taken after a case is the next case's "before", so each case costs one read.
    """

    def __init__(self, client: TestClient, tenant_id: str, *, skip: frozenset[str] = REPLAY_TABLES) -> None:
        self.client, self.tenant_id, self.skip = client, tenant_id, skip
        self.rows = fingerprint(client, tenant_id, skip=skip)
        self.cases = self.refused = self.accepted = 0

    def record(self, refused: bool, label: str) -> None:
        before, self.rows = self.rows, fingerprint(self.client, self.tenant_id, skip=self.skip)
        self.cases += 1
        if refused:
            self.refused += 1
            lost = changed(before, self.rows)
            assert not lost, f"{label} was refused but changed {lost}"
        else:
            self.accepted += 1

    def report(self, counts: Any, name: str) -> None:
        counts.add(f"{name}: cases", self.cases)
        counts.add(f"{name}: refused cases checked for partial writes", self.refused)
        counts.add(f"{name}: accepted cases", self.accepted)


def path_params(path: str) -> list[tuple[str, str]]:
    """(collection, parameter) for each {parameter} of the path."""
    segments = path.strip("/").split("/")
    return [(segments[i - 1], s[1:-1]) for i, s in enumerate(segments) if s.startswith("{")]


def own_path(path: str, world: World) -> str:
    """A route's path with each {parameter} filled with the world's first object of that kind."""
    values = {name: world.first(KINDS[(collection, name)]) for collection, name in path_params(path)}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
