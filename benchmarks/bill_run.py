"""Benchmark a bill run against the raw-SQL limit: bulkbill's set-based chunks vs one hand-written SQL pass.

On PostgreSQL (a throw-away PgCluster, or --database-url: a server where the user may CREATE
DATABASE) this builds a base database once: the schema (Alembic), one tenant, --accounts accounts
and --lines due lines (90 % rule-A order line items, 10 % fulfillments of rule-B lines; quantities
with halves and unit prices in quarter minor units, so rounding ties occur; every third line has an
accounting code; every fourth account has a Net 45 payment term). Then, each on a fresh copy
(CREATE DATABASE … TEMPLATE base):

  bulkbill     `bulkbill bill-run create --target-date …` in a subprocess: the run is planned and
               billed chunk by chunk by that one process (its peak RSS is measured with wait4);
  baseline     the same work as a few INSERT … SELECT statements in one transaction, written by
               hand for this data set (one invoice per account: the data has no splitting
               attributes and no returns): invoices, invoice items with the same extras (each
               carrying its invoice line), bill-run memberships, the invoice number block;
  N workers    N `bulkbill worker` processes (--workers 1,2: each count in turn) bill the run
               `bulkbill bill-run create --no-work` queued (the reported time is from the run's
               creation to its completion); "vs 1 process" is the workers' scaling.

With --repeat N, bulkbill and the baseline run alternately N times and each keeps its best time
(the machine may be shared: alternating spreads its load over both).

After each, the documents are checked: the same number of invoices, items and lines as due lines,
and the same grand total. On SQLite the data (--sqlite-lines, default --lines) is loaded into a
file and billed by `bulkbill bill-run create` in-process. Lines/s is billed lines over the wall
time from the run's creation to its completion (planning included).

    .venv/bin/python benchmarks/bill_run.py --lines 100000 --accounts 10000
    .venv/bin/python benchmarks/bill_run.py --backends postgres --sizes 200000:20000,1000000:100000 --workers 1,2
    .venv/bin/python benchmarks/bill_run.py --backends postgres --database-url postgresql://postgres@host/postgres

Each PostgreSQL data set's figures are printed as soon as they are known, and all again at the
end, with the machine's load average; each ends with the line
lines=<n> lines/s bulkbill=<n> baseline=<n> ratio=<x> rss_mb=<n> (ratio: to the raw-SQL baseline
on the same schema, measured in the same run).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

TARGET_DATE = "2024-06-30"
INVOICE_DATE = "2024-07-01"
NOW = 1719792000  # 2024-07-01T00:00:00Z
TENANT_NAME = "bench"


class BenchError(RuntimeError):
    pass


# --- the data set -----------------------------------------------------------------------------
# Line j (0 ≤ j < lines) belongs to account j * accounts // lines. The SQL below and the Python
# generator for SQLite make exactly the same rows.


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def customer_id(a: int) -> str:
    return "cus_" + _md5(f"c{a}")[:20]


PG_LOAD = """
INSERT INTO customers (tenant_id, id, name, email, currency, balance, invoice_prefix, next_invoice_sequence,
                       metadata, created, deleted, account_number, profile)
SELECT %(t)s, 'cus_' || substr(md5('c' || a), 1, 20), 'Account ' || a, 'a' || a || '@example.com', 'usd', 0,
       'P' || lpad(a::text, 10, '0'), 1, '{}', %(now)s, false, 'A' || lpad((a + 1)::text, 8, '0'),
       (CASE WHEN a %% 4 = 0 THEN '{"paymentTerm": "Net 45"}' ELSE '{}' END)::json
FROM generate_series(0, %(accounts)s - 1) a;

INSERT INTO orders (tenant_id, id, order_number, account_id, category, order_date, status, custom_fields, created,
                    updated)
SELECT %(t)s, md5('o' || a), 'O-' || lpad((a + 1)::text, 8, '0'), 'cus_' || substr(md5('c' || a), 1, 20), 'Sales',
       '2024-06-01', 'Completed', '{}', %(now)s, %(now)s
FROM generate_series(0, %(accounts)s - 1) a;

INSERT INTO order_line_items (tenant_id, id, order_id, item_number, account_id, owner_account_id, item_state,
    item_category, billing_rule, item_type, item_name, description, currency, quantity, list_price_per_unit,
    amount_per_unit, bill_target_date, transaction_start_date, transaction_end_date, uom, product_code,
    sent_to_billing_at, attrs, custom_fields, created, updated)
SELECT %(t)s, md5('l' || j), md5('o' || a), j::text, 'cus_' || substr(md5('c' || a), 1, 20),
       'cus_' || substr(md5('c' || a), 1, 20),
       CASE WHEN j %% 10 = 9 THEN 'Booked' ELSE 'SentToBilling' END, 'Sales',
       CASE WHEN j %% 10 = 9 THEN 'TriggerAsFulfillmentOccurs' ELSE 'TriggerWithoutFulfillment' END, 'Product',
       'Widget ' || (j %% 500), CASE WHEN j %% 2 = 0 THEN NULL ELSE 'Line ' || j END, 'usd',
       (1 + j %% 5)::numeric + CASE WHEN j %% 7 = 0 THEN 0.5 ELSE 0 END,
       (1000 + j %% 9973)::numeric / 4, (1000 + j %% 9973)::numeric / 4,
       '2024-06-15', '2024-06-01', '2024-06-30', 'Each', 'SKU-' || (j %% 500),
       CASE WHEN j %% 10 = 9 THEN NULL ELSE %(now)s END,
       (CASE WHEN j %% 3 = 0 THEN '{"accountingCode": "4000-' || (j %% 7) || '"}' ELSE '{}' END)::json, '{}',
       %(now)s, %(now)s
FROM (SELECT j, (j::bigint * %(accounts)s / %(lines)s) AS a FROM generate_series(0, %(lines)s - 1) j) s;

INSERT INTO fulfillments (tenant_id, id, fulfillment_number, order_line_item_id, state, fulfillment_type, quantity,
                          fulfillment_date, bill_target_date, sent_to_billing_at, custom_fields, created, updated)
SELECT %(t)s, md5('f' || j), 'F-' || lpad(j::text, 9, '0'), md5('l' || j), 'SentToBilling', 'Delivery',
       (1 + j %% 5)::numeric + CASE WHEN j %% 7 = 0 THEN 0.5 ELSE 0 END, '2024-06-10', '2024-06-15', %(now)s, '{}',
       %(now)s, %(now)s
FROM generate_series(0, %(lines)s - 1) j WHERE j %% 10 = 9;
"""


def sqlite_rows(tenant_id: str, lines: int, accounts: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The PostgreSQL data set, row by row, for SQLite (table name, values in PG_LOAD's column order)."""
    for a in range(accounts):
        profile = '{"paymentTerm": "Net 45"}' if a % 4 == 0 else "{}"
        cid = customer_id(a)
        yield (
            "customers",
            (
                tenant_id,
                cid,
                f"Account {a}",
                f"a{a}@example.com",
                "usd",
                0,
                f"P{a:010d}",
                1,
                "{}",
                NOW,
                0,
                f"A{a + 1:08d}",
                profile,
            ),
        )
        yield (
            "orders",
            (tenant_id, _md5(f"o{a}"), f"O-{a + 1:08d}", cid, "Sales", "2024-06-01", "Completed", "{}", NOW, NOW),
        )
    for j in range(lines):
        a = j * accounts // lines
        cid = customer_id(a)
        rule_b = j % 10 == 9
        quantity = format(Decimal(1 + j % 5) + (Decimal("0.5") if j % 7 == 0 else 0), "f")
        unit = format(Decimal(1000 + j % 9973) / 4, "f")
        attrs = f'{{"accountingCode": "4000-{j % 7}"}}' if j % 3 == 0 else "{}"
        yield (
            "order_line_items",
            (
                tenant_id,
                _md5(f"l{j}"),
                _md5(f"o{a}"),
                str(j),
                cid,
                cid,
                "Booked" if rule_b else "SentToBilling",
                "Sales",
                "TriggerAsFulfillmentOccurs" if rule_b else "TriggerWithoutFulfillment",
                "Product",
                f"Widget {j % 500}",
                None if j % 2 == 0 else f"Line {j}",
                "usd",
                quantity,
                unit,
                unit,
                "2024-06-15",
                "2024-06-01",
                "2024-06-30",
                "Each",
                f"SKU-{j % 500}",
                None if rule_b else NOW,
                attrs,
                "{}",
                NOW,
                NOW,
            ),
        )
        if rule_b:
            yield (
                "fulfillments",
                (
                    tenant_id,
                    _md5(f"f{j}"),
                    f"F-{j:09d}",
                    _md5(f"l{j}"),
                    "SentToBilling",
                    "Delivery",
                    quantity,
                    "2024-06-10",
                    "2024-06-15",
                    NOW,
                    "{}",
                    NOW,
                    NOW,
                ),
            )


SQLITE_COLUMNS = {
    "customers": "tenant_id, id, name, email, currency, balance, invoice_prefix, next_invoice_sequence, metadata, "
    "created, deleted, account_number, profile",
    "orders": "tenant_id, id, order_number, account_id, category, order_date, status, custom_fields, created, updated",
    "order_line_items": "tenant_id, id, order_id, item_number, account_id, owner_account_id, item_state, "
    "item_category, billing_rule, item_type, item_name, description, currency, quantity, list_price_per_unit, "
    "amount_per_unit, bill_target_date, transaction_start_date, transaction_end_date, uom, product_code, "
    "sent_to_billing_at, attrs, custom_fields, created, updated",
    "fulfillments": "tenant_id, id, fulfillment_number, order_line_item_id, state, fulfillment_type, quantity, "
    "fulfillment_date, bill_target_date, sent_to_billing_at, custom_fields, created, updated",
}


def prepare_schema(url: str) -> str:
    """Migrate and create the tenant; returns its id."""
    from bulkbill.services.platform.tenants import create_tenant
    from bulkbill.storage.db import create_db_engine, make_sessionmaker
    from bulkbill.storage.migrate import upgrade

    engine = create_db_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine).begin() as session:
        tenant = create_tenant(session, TENANT_NAME, now=NOW)
    engine.dispose()
    return tenant.id


def load_postgres(dsn: str, tenant_id: str, lines: int, accounts: int) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        conn.execute(PG_LOAD, {"t": tenant_id, "now": NOW, "lines": lines, "accounts": accounts})
        conn.execute("VACUUM ANALYZE")


def _set_items_fillfactor(dsn: str, fillfactor: int) -> None:
    """invoice_items' fillfactor for this benchmark's database (migration 0021 makes it 70)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE invoice_items SET (fillfactor = {int(fillfactor)})")


def load_sqlite(path: Path, tenant_id: str, lines: int, accounts: int) -> None:
    tenant_id = tenant_id
    conn = sqlite3.connect(path)
    batches: dict[str, list[tuple[Any, ...]]] = {name: [] for name in SQLITE_COLUMNS}

    def flush(name: str) -> None:
        columns = SQLITE_COLUMNS[name]
        marks = ", ".join("?" for _ in columns.split(","))
        conn.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})", batches[name])
        batches[name].clear()

    with conn:
        for name, row in sqlite_rows(tenant_id, lines, accounts):
            batches[name].append(row)
            if len(batches[name]) >= 20_000:
                flush(name)
        for name in ("customers", "orders", "order_line_items", "fulfillments"):
            flush(name)
    conn.execute("ANALYZE")
    conn.close()


# --- the raw-SQL baseline ---------------------------------------------------------------------

BASELINE = """
CREATE TEMP TABLE due ON COMMIT DROP AS
SELECT l.account_id, l.currency, l.id AS source_id, 'order_line_item'::text AS source_type, l.id AS line_id,
       NULL::text AS fulfillment_id, 0 AS kind, l.quantity, l.amount_per_unit AS unit, l.item_name, l.description,
       l.product_code, l.uom, l.transaction_start_date AS service_start, l.transaction_end_date AS service_end, l.attrs
FROM order_line_items l
WHERE l.tenant_id = %(t)s AND l.billing_rule = 'TriggerWithoutFulfillment'
  AND l.item_state IN ('SentToBilling', 'Complete') AND l.sent_to_billing_at IS NOT NULL
  AND l.bill_target_date <= %(target)s
  AND NOT EXISTS (SELECT 1 FROM invoice_items i WHERE i.tenant_id = l.tenant_id
                  AND i.source_type = 'order_line_item' AND i.source_id = l.id)
UNION ALL
SELECT l.account_id, l.currency, f.id, 'fulfillment', l.id, f.id, 1, f.quantity, l.amount_per_unit, l.item_name,
       l.description, l.product_code, l.uom, f.fulfillment_date, f.fulfillment_date, l.attrs
FROM fulfillments f JOIN order_line_items l ON l.tenant_id = f.tenant_id AND l.id = f.order_line_item_id
WHERE f.tenant_id = %(t)s AND f.state IN ('SentToBilling', 'Complete') AND f.sent_to_billing_at IS NOT NULL
  AND f.bill_target_date <= %(target)s
  AND NOT EXISTS (SELECT 1 FROM invoice_items i WHERE i.tenant_id = f.tenant_id
                  AND i.source_type = 'fulfillment' AND i.source_id = f.id);

CREATE TEMP TABLE docs ON COMMIT DROP AS
SELECT d.account_id, d.currency, md5(random()::text || d.account_id) AS id,
       row_number() OVER (ORDER BY d.account_id) AS n, count(*) AS lines,
       sum(round(d.quantity * d.unit))::bigint AS total,
       CASE c.profile::jsonb ->> 'paymentTerm' WHEN 'Net 45' THEN 45 WHEN 'Due Upon Receipt' THEN 0 ELSE 30 END
         AS days
FROM due d JOIN customers c ON c.tenant_id = %(t)s AND c.id = d.account_id
GROUP BY d.account_id, d.currency, c.profile::jsonb ->> 'paymentTerm';

CREATE TEMP TABLE rows ON COMMIT DROP AS
SELECT d.*, docs.id AS invoice_id, round(d.quantity * d.unit)::bigint AS amount,
       d.attrs ->> 'accountingCode' AS code, d.attrs -> 'productRatePlanChargeId' AS rate_plan_charge,
       d.attrs -> 'soldTo' AS sold_to, d.attrs -> 'purchaseOrderNumber' AS po_number, d.attrs -> 'taxCode' AS tax_code,
       d.attrs -> 'taxMode' AS tax_mode,
       row_number() OVER (PARTITION BY d.account_id ORDER BY d.kind, d.source_id) - 1 AS position,
       'ii_' || substr(md5(random()::text || d.source_id), 1, 21) AS item_id,
       'il_' || substr(md5(random()::text || d.source_id), 1, 21) AS inv_line_id
FROM due d JOIN docs ON docs.account_id = d.account_id AND docs.currency = d.currency;

INSERT INTO sequences (tenant_id, name, next_value) VALUES (%(t)s, 'invoice', 1) ON CONFLICT DO NOTHING;
UPDATE sequences SET next_value = next_value + (SELECT count(*) FROM docs)
WHERE tenant_id = %(t)s AND name = 'invoice';

INSERT INTO bill_runs (tenant_id, id, bill_run_number, status, target_date, invoice_date, auto_post,
    include_order_line_items, settings, number_of_accounts, number_of_invoices, number_of_credit_memos, created,
    updated, scope, frozen, total_chunks, chunks_done, planned_lines, billed_lines)
SELECT %(t)s, %(run)s, 'BR-BASELINE', 'Completed', %(target)s, %(invoice_date)s, false, true, '{}',
       count(*), count(*), 0, %(now)s, %(now)s, '{}', false, 0, 0, sum(lines), sum(lines) FROM docs;

INSERT INTO invoices (tenant_id, id, customer_id, currency, status, collection_method, days_until_due, due_date,
    auto_advance, metadata, default_tax_rates, discounts, number, billing_reason, created, period_start, period_end,
    starting_balance, amount_paid, paid_out_of_band, subtotal, subtotal_excluding_tax, total, total_excluding_tax,
    amount_due, total_discount_amounts, total_taxes, line_count, next_line_position, document_type, origin,
    invoice_date, target_date, auto_pay, custom_fields, bill_run_id)
SELECT %(t)s, docs.id, docs.account_id, lower(docs.currency), 'draft', 'send_invoice', docs.days,
       extract(epoch FROM %(invoice_date)s::date + docs.days)::bigint, false, '{}', '[]', '[]',
       'INV' || lpad((s.next_value - (SELECT count(*) FROM docs) - 1 + docs.n)::text, 8, '0'), 'manual', %(now)s,
       extract(epoch FROM %(target)s::date)::bigint, extract(epoch FROM %(target)s::date)::bigint, 0, 0, false,
       docs.total, docs.total, docs.total, docs.total, greatest(docs.total, 0), '[]', '[]', docs.lines, docs.lines,
       'invoice', 'bill_run', %(invoice_date)s, %(target)s, false, '{}', %(run)s
FROM docs, sequences s WHERE s.tenant_id = %(t)s AND s.name = 'invoice';

INSERT INTO invoice_items (tenant_id, id, customer_id, invoice_id, kind, currency, unit_amount_decimal,
    quantity_decimal, amount, amount_defined, description, discountable, discounts, tax_rates, period_start,
    period_end, metadata, created, source_type, source_id, custom_fields, extras, line_id, position,
    discount_amounts, taxes)
SELECT %(t)s, r.item_id, r.account_id, r.invoice_id, 'invoice_item', lower(r.currency), r.unit, r.quantity, r.amount,
       false, coalesce(r.description, r.item_name), false, '[]', NULL,
       extract(epoch FROM r.service_start::date)::bigint, extract(epoch FROM r.service_end::date)::bigint, '{}',
       %(now)s, r.source_type, r.source_id, '{}',
       CASE WHEN r.code IS NULL THEN
         json_build_object('chargeName', r.item_name, 'sku', r.product_code, 'productName', r.item_name,
           'unitOfMeasure', r.uom, 'serviceStartDate', r.service_start, 'serviceEndDate', r.service_end,
           'sourceItemType', CASE WHEN r.kind = 1 THEN 'Fulfillment' ELSE 'OrderLineItem' END,
           'orderLineItemId', r.line_id, 'fulfillmentId', r.fulfillment_id, 'chargeType', 'OneTime',
           'processingType', 'Charge', 'productRatePlanChargeId', r.rate_plan_charge, 'soldToContactId', r.sold_to,
           'purchaseOrderNumber', r.po_number, 'taxCode', r.tax_code, 'taxMode', r.tax_mode)
       ELSE
         json_build_object('chargeName', r.item_name, 'sku', r.product_code, 'productName', r.item_name,
           'unitOfMeasure', r.uom, 'serviceStartDate', r.service_start, 'serviceEndDate', r.service_end,
           'sourceItemType', CASE WHEN r.kind = 1 THEN 'Fulfillment' ELSE 'OrderLineItem' END,
           'orderLineItemId', r.line_id, 'fulfillmentId', r.fulfillment_id, 'chargeType', 'OneTime',
           'processingType', 'Charge', 'productRatePlanChargeId', r.rate_plan_charge, 'soldToContactId', r.sold_to,
           'purchaseOrderNumber', r.po_number, 'taxCode', r.tax_code, 'taxMode', r.tax_mode,
           'accountingCode', r.code)
       END,
       r.inv_line_id, r.position, '[]', '[]'
FROM rows r;

INSERT INTO bill_run_accounts (tenant_id, bill_run_id, customer_id, status, items, invoices, credit_memos, totals)
SELECT %(t)s, %(run)s, docs.account_id, 'Billed', docs.lines, 1, 0,
       json_build_object(lower(docs.currency), json_build_object('invoice', docs.total, 'creditMemo', 0))
FROM docs;
"""


def run_baseline(dsn: str, tenant_id: str) -> float:
    import psycopg

    params = {
        "t": tenant_id,
        "target": TARGET_DATE,
        "invoice_date": INVOICE_DATE,
        "now": NOW,
        "run": uuid.uuid4().hex,
    }
    with psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor) as conn:  # several statements, one call
        started = time.perf_counter()
        with conn.transaction():
            conn.execute(BASELINE, params)
        return time.perf_counter() - started


# --- bulkbill runs ----------------------------------------------------------------------------


@dataclass
class Outcome:
    seconds: float
    lines: int
    rss_mb: float
    summary: dict[str, Any]
    client_cpu: float = 0.0  # CPU seconds of the bulkbill processes (the CLI and its workers)
    server_cpu: float = 0.0  # CPU seconds of the PostgreSQL server meanwhile (0: not measurable)

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "bulkbill", *args]


def _wait(process: subprocess.Popen[bytes]) -> tuple[int, float, float]:
    """Wait for a child; its exit status, peak RSS in MB (Linux reports ru_maxrss in KB) and CPU seconds."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def bill_with_cli(url: str, *, workers: int = 0, env: dict[str, str] | None = None) -> Outcome:
    """`bulkbill bill-run create` in a subprocess; with `workers`, only queue it for that many workers."""
    env = {**os.environ, **(env or {})}
    helpers: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(workers):
            helpers.append(
                subprocess.Popen(
                    _cli("worker", "--database-url", url, "--poll-interval", "0.2"),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        if workers:
            time.sleep(3.0)  # let the workers import and connect (not part of the run)
        args = ["bill-run", "create", "--tenant", TENANT_NAME, "--target-date", TARGET_DATE]
        args += ["--invoice-date", INVOICE_DATE, "--database-url", url, "--json", "--no-progress"]
        if workers:
            args.append("--no-work")
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(_cli(*args), env=env, stdout=out, stderr=err)
            code, rss, cpu = _wait(process)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
        if code != 0:
            raise BenchError(f"bulkbill bill-run create exited {code}:\n{stdout}\n{stderr[-3000:]}")
        summary = json.loads(stdout.strip().splitlines()[-1])
        if summary["status"] != "Completed":
            raise BenchError(f"the run ended {summary['status']}: {summary}")
        for helper in helpers:
            helper.send_signal(signal.SIGTERM)
        for helper in helpers:
            _, helper_rss, helper_cpu = _wait(helper)
            rss = max(rss, helper_rss)
            cpu += helper_cpu
        helpers.clear()
        return Outcome(summary["seconds"], summary["lines"], rss, summary, client_cpu=cpu)
    finally:
        for helper in helpers:
            with contextlib.suppress(ProcessLookupError):
                helper.kill()
            with contextlib.suppress(ChildProcessError):
                _wait(helper)


def check_documents(url: str, tenant_id: str, lines: int) -> tuple[int, int]:
    """Every due line billed once, on one invoice per account; returns (invoices, grand total)."""
    from sqlalchemy import text

    from bulkbill.storage.db import create_db_engine

    engine = create_db_engine(url)
    with engine.connect() as conn:
        invoices, total, line_count = conn.execute(
            text(
                "SELECT count(*), coalesce(sum(total), 0), coalesce(sum(line_count), 0) FROM invoices"
                " WHERE tenant_id = :t"
            ),
            {"t": tenant_id},
        ).one()
        items, il = conn.execute(
            text("SELECT count(*), count(line_id) FROM invoice_items WHERE tenant_id = :t"), {"t": tenant_id}
        ).one()
    engine.dispose()
    if not (items == il == line_count == lines):
        raise BenchError(f"expected {lines} items and lines, found {items} items, {il} lines, {line_count} counted")
    return int(invoices), int(total)


# --- PostgreSQL -------------------------------------------------------------------------------


@dataclass
class PgServer:
    admin_dsn: str  # libpq DSN of a database to run CREATE DATABASE from
    url_for: Any  # database name -> SQLAlchemy URL
    cpu: Any = lambda: 0.0  # CPU seconds the server's processes have used so far (0 when not on this machine)

    def create(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return str(self.url_for(name))

    def drop(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def pg_server(database_url: str | None) -> Iterator[PgServer]:
    if database_url:
        from sqlalchemy.engine import make_url

        from bulkbill.storage.db import normalize_url

        base = make_url(normalize_url(database_url))
        yield PgServer(libpq(base.render_as_string(hide_password=False)), lambda name: base.set(database=name))
        return
    from bulkbill.devtools.pg_cluster import PgCluster, PostgresUnavailable

    try:
        cluster = PgCluster.start()
    except (PostgresUnavailable, OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(f"cannot start a PostgreSQL cluster (pass --database-url): {exc}") from exc
    try:
        postmaster = int((cluster.root / "data" / "postmaster.pid").read_text().split()[0])
        yield PgServer(libpq(cluster.admin_url), cluster.url, lambda: server_cpu(postmaster))
    finally:
        cluster.stop()


def proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3 first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def server_cpu(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live children, and the children it reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = proc_stat(postmaster)
    total = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                child = proc_stat(int(entry.name))
                if int(child[1]) == postmaster:
                    total += int(child[11]) + int(child[12])
    return total / ticks


@dataclass
class PgResults:
    bulkbill: Outcome
    baseline_seconds: float
    workers: dict[int, Outcome]  # by number of worker processes
    lines: int
    accounts: int
    baseline_cpu: float  # the server's CPU seconds for the baseline

    @property
    def baseline_rate(self) -> float:
        return self.lines / self.baseline_seconds


def bench_postgres(args: argparse.Namespace) -> PgResults:
    with pg_server(args.database_url) as server:
        base = "bb_bench_base"
        url = server.create(base)
        log(f"[postgres] loading {args.lines:,} lines for {args.accounts:,} accounts ...")
        started = time.perf_counter()
        tenant_id = prepare_schema(url)
        if args.items_fillfactor is not None:  # an A/B of the page room left for in-place updates
            _set_items_fillfactor(libpq(url), args.items_fillfactor)
        load_postgres(libpq(url), tenant_id, args.lines, args.accounts)
        log(f"[postgres] loaded in {time.perf_counter() - started:.1f} s")
        try:
            ours: Outcome | None = None
            baseline = baseline_cpu = float("inf")
            invoices = total = 0
            for attempt in range(args.repeat):
                note = f" (round {attempt + 1} of {args.repeat})" if args.repeat > 1 else ""
                copy = server.create("bb_bench_1", template=base)
                log(f"[postgres] bulkbill bill run (1 process){note} ...")
                before = server.cpu()
                outcome = bill_with_cli(copy, env=args.env)
                outcome.server_cpu = server.cpu() - before
                invoices, total = check_documents(copy, tenant_id, args.lines)
                rate = f"{outcome.lines:,} lines in {outcome.seconds:.2f} s"
                log(f"[postgres]   {rate}, {invoices:,} invoices, total {total}")
                server.drop("bb_bench_1")
                if ours is None or outcome.seconds < ours.seconds:
                    ours = outcome

                copy = server.create("bb_bench_2", template=base)
                log(f"[postgres] raw-SQL baseline{note} ...")
                before = server.cpu()
                seconds = run_baseline(libpq(copy), tenant_id)
                baseline_cpu = min(baseline_cpu, server.cpu() - before)
                b_invoices, b_total = check_documents(copy, tenant_id, args.lines)
                log(f"[postgres]   {args.lines:,} lines in {seconds:.2f} s, {b_invoices:,} invoices, total {b_total}")
                if (b_invoices, b_total) != (invoices, total):
                    raise BenchError(
                        f"baseline made {b_invoices} invoices totalling {b_total}; bulkbill {invoices}, {total}"
                    )
                server.drop("bb_bench_2")
                baseline = min(baseline, seconds)
            assert ours is not None

            workers: dict[int, Outcome] = {}
            for count in args.workers:
                for _ in range(args.repeat):
                    copy = server.create("bb_bench_3", template=base)
                    log(f"[postgres] bulkbill bill run shared by {count} workers ...")
                    before = server.cpu()
                    outcome = bill_with_cli(copy, workers=count, env=args.env)
                    outcome.server_cpu = server.cpu() - before
                    w_invoices, w_total = check_documents(copy, tenant_id, args.lines)
                    if (w_invoices, w_total) != (invoices, total):
                        raise BenchError(f"the workers made {w_invoices} invoices totalling {w_total}")
                    log(f"[postgres]   {outcome.lines:,} lines in {outcome.seconds:.2f} s")
                    server.drop("bb_bench_3")
                    if count not in workers or outcome.seconds < workers[count].seconds:
                        workers[count] = outcome
        finally:
            with contextlib.suppress(Exception):
                server.drop(base)
        return PgResults(ours, baseline, workers, args.lines, args.accounts, baseline_cpu)


def bench_sqlite(args: argparse.Namespace) -> Outcome:
    workdir = Path(tempfile.mkdtemp(prefix="bulkbill-billrun-"))
    try:
        path = workdir / "bench.db"
        url = f"sqlite:///{path}"
        lines = args.sqlite_lines or args.lines
        accounts = max(1, args.accounts * lines // args.lines)
        log(f"[sqlite] loading {lines:,} lines for {accounts:,} accounts ...")
        tenant_id = prepare_schema(url)
        load_sqlite(path, tenant_id, lines, accounts)
        log("[sqlite] bulkbill bill run (in-process) ...")
        outcome = bill_with_cli(url, env=args.env)
        check_documents(url, tenant_id, lines)
        log(f"[sqlite]   {outcome.lines:,} lines in {outcome.seconds:.2f} s")
        return outcome
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for part in text.split(","):
        lines, _, accounts = part.partition(":")
        sizes.append((int(lines), int(accounts or max(1, int(lines) // 10))))
    return sizes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000, help="due lines to bill (default 100,000)")
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts they belong to (default 10,000)")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="several data sets, each billed on its own: LINES:ACCOUNTS,... (e.g. 200000:20000,1000000:100000);"
        " replaces --lines/--accounts",
    )
    parser.add_argument("--backends", default="postgres,sqlite", help="comma-separated: postgres,sqlite")
    parser.add_argument("--sqlite-lines", type=int, default=None, help="lines for the SQLite run (default --lines)")
    parser.add_argument(
        "--workers", type=_counts, default=[2], help="worker counts for the shared runs, e.g. 1,2 (0 or empty: skip)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BULKBILL_BENCH_PG_URL"),
        help="a PostgreSQL server to use instead of a throw-away cluster (its user must be allowed CREATE DATABASE)",
    )
    parser.add_argument("--chunk-lines", type=int, default=None, help="BULKBILL_BILL_RUN_CHUNK_LINES for the runs")
    parser.add_argument(
        "--items-fillfactor",
        type=int,
        default=None,
        help="PostgreSQL: set invoice_items' fillfactor (10-100) before loading (default: the schema's, 70)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="run bulkbill and the baseline alternately N times; keep each's best"
    )
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"postgres", "sqlite"} or not args.backends:
        parser.error("--backends takes postgres and/or sqlite")
    args.sizes = args.sizes or [(args.lines, args.accounts)]
    if any(lines < 1 or not 1 <= accounts <= lines for lines, accounts in args.sizes):
        parser.error("need 1 <= accounts <= lines")
    args.workers = [count for count in args.workers if count > 0]
    if args.items_fillfactor is not None and not 10 <= args.items_fillfactor <= 100:
        parser.error("--items-fillfactor takes 10 to 100")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    args.env = {"BULKBILL_BILL_RUN_CHUNK_LINES": str(args.chunk_lines)} if args.chunk_lines else {}
    return args


def load_average() -> str:
    """The machine's load when the figures were taken (the cores may be shared)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def report_postgres(pg: PgResults) -> None:
    """One data set's PostgreSQL figures: the table, workers scaling, and the summary line."""
    ours = pg.bulkbill
    print(f"== bill run on PostgreSQL: {pg.lines:,} lines, {pg.accounts:,} accounts ({load_average()}) ==")
    print("CPU s: seconds of CPU used by the bulkbill processes and by the PostgreSQL server (the load does not")
    print("inflate them); lines/CPU-s: billed lines per CPU second of both, what one free core would bill")
    print(
        f"{'':<24}{'seconds':>9}{'lines/s':>9}{'RSS MB':>8}{'vs 1 proc':>10}{'bulkbill CPU s':>15}"
        f"{'server CPU s':>13}{'lines/CPU-s':>12}"
    )

    def cpu(outcome_cpu: float, server: float) -> str:
        used = outcome_cpu + server
        return f"{outcome_cpu:>15.1f}{server:>13.1f}{(pg.lines / used if used else 0):>12,.0f}"

    print(f"{'bulkbill, 1 process':<24}{ours.seconds:>9.2f}{ours.rate:>9,.0f}{ours.rss_mb:>8.0f}{1:>10.2f}", end="")
    print(cpu(ours.client_cpu, ours.server_cpu))
    for count, outcome in sorted(pg.workers.items()):
        label = f"bulkbill, {count} worker{'s' if count > 1 else ''}"
        scale = outcome.rate / ours.rate
        print(f"{label:<24}{outcome.seconds:>9.2f}{outcome.rate:>9,.0f}{outcome.rss_mb:>8.0f}{scale:>10.2f}", end="")
        print(cpu(outcome.client_cpu, outcome.server_cpu))
    print(f"{'raw-SQL baseline':<24}{pg.baseline_seconds:>9.2f}{pg.baseline_rate:>9,.0f}{'':>18}", end="")
    print(cpu(0.0, pg.baseline_cpu))
    for count, outcome in sorted(pg.workers.items()):
        print(
            f"workers={count} lines/s bulkbill={outcome.rate:.0f} baseline={pg.baseline_rate:.0f} "
            f"ratio={outcome.rate / pg.baseline_rate:.2f} rss_mb={outcome.rss_mb:.0f}"
        )
    print(
        f"lines={pg.lines} lines/s bulkbill={ours.rate:.0f} baseline={pg.baseline_rate:.0f} "
        f"ratio={ours.rate / pg.baseline_rate:.2f} rss_mb={ours.rss_mb:.0f}"
    )
    print()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results: list[PgResults] = []
    lite: Outcome | None = None
    try:
        for lines, accounts in args.sizes:
            args.lines, args.accounts = lines, accounts
            if "postgres" in args.backends:
                results.append(bench_postgres(args))
                report_postgres(results[-1])  # as soon as it is known: a large run may be interrupted
        if "sqlite" in args.backends:
            lite = bench_sqlite(args)
    except BenchError as exc:
        log(f"ABORTED: {exc}")
        return 2
    print()
    for pg in results:
        report_postgres(pg)
    if lite is not None:
        print(f"== bill run on SQLite ({load_average()}) ==")
        print(f"sqlite lines/s bulkbill={lite.rate:.0f} rss_mb={lite.rss_mb:.0f}")
        if not results:
            print(f"lines/s bulkbill={lite.rate:.0f} baseline=n/a ratio=n/a rss_mb={lite.rss_mb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
